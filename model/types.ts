/**
 * zod schemas at the LiveMigration workflow's boundary: its input, its queries' answers, its
 * result and the operator updates' inputs. Shared by the workflow, the worker, the client and the
 * CLI, so a request is judged by the same rules everywhere.
 *
 * Workflow-safe: no I/O, no clocks, no randomness, no Temporal/libvirt/node imports (this file is
 * bundled into the workflow sandbox).
 *
 * Errors are written for the person who sent the request: one line per bad field, naming the path
 * and what is allowed, e.g. `destination.mode: must be one of force, check (got "x")`.
 */
import { z } from 'zod';
import { InvalidInputError, parseWith, shown, strictObject, typeError, type ParseResult } from './validation';
import { ConvergencePolicySchema } from './convergence-policy';
import { DiskProgressSchema } from './storage/disk-progress';

// Callers that validate with these helpers find them where they find the schemas.
export { InvalidInputError, assertValid, formatIssues, formatPath, parseWith, type ParseResult } from './validation';

// ---------------------------------------------------------------------------------------------
// Names and identifiers
// ---------------------------------------------------------------------------------------------

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const VM_NAME_RE = /^[A-Za-z0-9_.-]+$/;
const HOST_NAME_RE = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?$/;

export function isUuid(value: string): boolean {
  return UUID_RE.test(value);
}

/** A libvirt domain name (letters, digits, `_ . -`) or a UUID; both fit the same 64 characters. */
export const VmRefSchema = z
  .string(typeError('must be a string: a libvirt domain name or UUID'))
  .min(1)
  .max(64)
  .regex(VM_NAME_RE, { error: 'must be a libvirt domain name (letters, digits, _ . -) or a UUID' })
  .describe('The VM to migrate: libvirt domain name (letters, digits, _ . -; 1-64 characters) or UUID.');

/** A host of ferry's inventory (activities/hosts.ts): a DNS-like name. */
export const HostNameSchema = z
  .string(typeError('must be a string: a host name from the inventory'))
  .min(1)
  .max(253)
  .regex(HOST_NAME_RE, {
    error: 'must be a host name (letters, digits, _ . -; starting and ending with a letter or digit)',
  })
  .describe('A host name from ferry\'s host inventory.');

const WORKFLOW_ID_PREFIX = 'migrate-';

/**
 * The workflow id of a VM's migration: `migrate-<vm-uuid>` in lower case, so that a second
 * concurrent migration of the same VM is refused by Temporal instead of racing the first.
 */
export function migrationWorkflowId(vmUuid: string): string {
  if (!isUuid(vmUuid)) {
    throw new InvalidInputError(`vm uuid: must be a UUID (got ${shown(vmUuid)})`, [`vm uuid: must be a UUID`]);
  }
  return `${WORKFLOW_ID_PREFIX}${vmUuid.toLowerCase()}`;
}

/** The VM UUID of a migration workflow id, or null when `id` is not one. */
export function vmUuidFromWorkflowId(id: string): string | null {
  if (!id.startsWith(WORKFLOW_ID_PREFIX)) return null;
  const uuid = id.slice(WORKFLOW_ID_PREFIX.length);
  return isUuid(uuid) && uuid === uuid.toLowerCase() ? uuid : null;
}

export function isMigrationWorkflowId(id: string): boolean {
  return vmUuidFromWorkflowId(id) !== null;
}

const clipped = (text: string) => (text.length > 60 ? `${text.slice(0, 57)}...` : text);

/**
 * What is wrong with `id` as a migration's id (`migrate-` and the UUID of the VM it moves), or
 * null when it is one. The workflow id must be in lower case; `anyCase` accepts any (the CLI
 * lower-cases what an operator typed).
 */
export function migrationWorkflowIdProblem(id: string, opts: { anyCase?: boolean } = {}): string | null {
  const prefix = id.slice(0, WORKFLOW_ID_PREFIX.length);
  if ((opts.anyCase ? prefix.toLowerCase() : prefix) !== WORKFLOW_ID_PREFIX) return `'${clipped(id)}' does not start with ${WORKFLOW_ID_PREFIX}`;
  const rest = id.slice(WORKFLOW_ID_PREFIX.length);
  if (rest === '') return `nothing follows ${WORKFLOW_ID_PREFIX}`;
  if (!isUuid(rest)) return `'${clipped(rest)}' is not a UUID (8-4-4-4-12 hexadecimal digits)`;
  if (!opts.anyCase && id !== id.toLowerCase()) return `it must be in lower case (${id.toLowerCase()})`;
  return null;
}

/**
 * The LiveMigration workflow's refusal of a workflow id that is no migration id at all, found
 * before anything is asked of a host (the VM's UUID, hence the one id it may run as, is known only
 * after the source check unless the request names the VM by UUID); null for a well-formed id.
 */
export function malformedWorkflowIdRefusal(workflowId: string, vm: string): string | null {
  const problem = migrationWorkflowIdProblem(workflowId);
  if (problem === null) return null;
  const to = isUuid(vm) ? `${WORKFLOW_ID_PREFIX}${vm.toLowerCase()}` : `${WORKFLOW_ID_PREFIX}<the UUID of VM '${vm}'>`;
  return (
    `workflow id '${clipped(workflowId)}' is not a migration id: a migration must run as workflow id ${WORKFLOW_ID_PREFIX}<vm uuid>, ` +
    `the UUID of the request's VM in lower case (so one VM has one migration at a time), and ${problem}; ` +
    `start it again with --workflow-id ${to}`
  );
}

// ---------------------------------------------------------------------------------------------
// Policy overrides
// ---------------------------------------------------------------------------------------------

/**
 * The strict deep-partial of an object schema, without its defaults: an override names only what
 * it changes, and the resolution (defaults <- cluster <- request) happens where the policy is
 * resolved, not while parsing the request.
 */
export function deepPartialOverrides<S extends z.ZodType>(
  schema: S,
  expected = 'an object',
): z.ZodType<DeepPartial<z.output<S>>> {
  return deepPartialOf(schema, expected) as z.ZodType<DeepPartial<z.output<S>>>;
}

export type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

function deepPartialOf(schema: z.ZodType, expected = 'an object'): z.ZodType {
  let inner: z.ZodType = schema;
  for (;;) {
    if (inner instanceof z.ZodDefault || inner instanceof z.ZodPrefault) inner = inner.unwrap() as z.ZodType;
    else if (inner instanceof z.ZodOptional) inner = inner.unwrap() as z.ZodType;
    else break;
  }
  if (!(inner instanceof z.ZodObject)) return inner;
  const shape: Record<string, z.ZodType> = {};
  for (const [key, value] of Object.entries(inner.shape as Record<string, z.ZodType>)) {
    shape[key] = deepPartialOf(value).optional();
  }
  return strictObject(shape, expected);
}

/**
 * Per-migration overrides of the convergence policy: any subset of ConvergencePolicySchema's
 * fields, checked like the policy's own (so `policy.downtime.maxMs: must be at most 2000000`),
 * unknown fields refused by name (a typo such as `alowed` must not be silently dropped), and no
 * defaults filled in: the resolved policy is defaults <- overrides, made where it is resolved.
 */
export const PolicyOverridesSchema = deepPartialOverrides(
  ConvergencePolicySchema,
  'an object of policy overrides, e.g. { "postcopy": { "allowed": false } }',
).describe(
  'Overrides of the convergence policy for this migration: any subset of its fields (ferry schema shows them).',
);

export type PolicyOverrides = z.output<typeof PolicyOverridesSchema>;

// ---------------------------------------------------------------------------------------------
// MigrationRequest: the workflow's input
// ---------------------------------------------------------------------------------------------

export const DestinationModeSchema = z
  .enum(['force', 'check'])
  .describe(
    'force: use this host without asking Placement whether it fits (the safety pre-checks still run); ' +
      "check: use it only if Placement's allocation candidates and the pre-checks accept it.",
  );

export const DestinationSchema = strictObject(
  { host: HostNameSchema, mode: DestinationModeSchema.default('check') },
  'a host name or an object { host, mode }',
);

/**
 * `destination` accepts three forms: absent (ferry chooses a host through Placement allocation
 * candidates), `"host-b"` (shorthand for `{ host: "host-b", mode: "check" }`), or
 * `{ host, mode: "force" | "check" }` (mode defaults to "check").
 */
const DestinationInputSchema = z
  .preprocess((value) => (typeof value === 'string' ? { host: value, mode: 'check' } : value), DestinationSchema)
  .describe(
    'Where to move the VM: a host name (checked), or { host, mode: "force" | "check" }; absent: chosen through Placement.',
  );

export const MigrationRequestSchema = strictObject(
  {
    vm: VmRefSchema,
    source: HostNameSchema.optional().describe('The host the VM runs on; absent: discovered.'),
    destination: DestinationInputSchema.optional(),
    policy: PolicyOverridesSchema.optional(),
    bandwidthMiBps: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .optional()
      .describe('Migration bandwidth limit in MiB/s (1..1000000); absent: unlimited or the policy default.'),
    requestedBy: z.string().min(1).max(256).optional().describe('Who asked for the migration (for the audit).'),
    reservation: z
      .uuid({ error: 'must be the UUID of a reservation consumer in Placement' })
      .optional()
      .describe(
        "Set by a drain: the Placement consumer holding this move's room on the destination. The claim takes that room " +
          'over in the same atomic write (so it is never counted twice); absent or empty: the claim asks Placement for room.',
      ),
    admittedBy: z
      .string()
      .min(1)
      .max(256)
      .optional()
      .describe(
        'Who already admitted this migration under the shared admission limits (a drain sets its workflow id): the migration ' +
          'does not wait for admission itself. Absent: it waits until the limits of policy.admission let it start.',
      ),
  },
  'an object { vm, source?, destination?, policy?, bandwidthMiBps?, requestedBy? }',
).superRefine((request, ctx) => {
  if (request.source !== undefined && request.destination?.host === request.source) {
    ctx.addIssue({
      code: 'custom',
      path: ['destination', 'host'],
      message: `must differ from source (both are "${request.source}")`,
      input: request.destination.host,
    });
  }
  // Rules that tie fields together (downtime.maxMs >= downtime.initialMs) are checked on the
  // overrides merged with the defaults, so a request that cannot resolve fails here, by name.
  if (request.policy !== undefined) {
    const resolved = ConvergencePolicySchema.safeParse(request.policy);
    for (const issue of resolved.success ? [] : resolved.error.issues) {
      ctx.addIssue({
        code: 'custom',
        path: ['policy', ...issue.path],
        message: `${issue.message} (with the defaults filled in)`,
        input: undefined,
      });
    }
  }
});

/** What a caller may send (destination may be the string shorthand). */
export type MigrationRequestInput = z.input<typeof MigrationRequestSchema>;
/** What the workflow works with (destination always `{ host, mode }`). */
export type MigrationRequest = z.output<typeof MigrationRequestSchema>;
export type Destination = z.output<typeof DestinationSchema>;
export type DestinationMode = z.output<typeof DestinationModeSchema>;

export function parseMigrationRequest(input: unknown): ParseResult<MigrationRequest> {
  return parseWith(MigrationRequestSchema, input, 'migration request');
}

// ---------------------------------------------------------------------------------------------
// Progress, decisions, outcome
// ---------------------------------------------------------------------------------------------

export const PHASES = [
  'validating',
  'pre-checks',
  /** Waiting until the shared admission limits let the migration start (nothing changed on either host yet). */
  'admission',
  'claiming',
  'preparing',
  'pre-copy',
  'post-copy',
  'paused',
  'switching-over',
  'finishing',
  'rolling-back',
  'recovering',
  /** Post-copy recovery needs an operator: ferry keeps observing, never destroys (resumeRecovery). */
  'escalated',
  'done',
] as const;
export const PhaseSchema = z.enum(PHASES);
export type Phase = z.output<typeof PhaseSchema>;

export const MigrationModeSchema = z.enum(['precopy', 'postcopy', 'paused']);
export type MigrationMode = z.output<typeof MigrationModeSchema>;

const bytes = z.number().int().min(0);
const nullableRate = z.number().min(0).nullable();

/** The progress query's answer. `percent` never decreases and stays at 99 until confirmed done. */
export const ProgressSchema = z.object({
  phase: PhaseSchema,
  percent: z.number().min(0).max(100),
  etaMs: z.number().min(0).nullable(),
  iteration: z.number().int().min(0).nullable(),
  dataTotal: bytes,
  dataRemaining: bytes,
  bandwidthBps: nullableRate,
  dirtyBps: nullableRate,
  expectedDowntimeMs: z.number().min(0).nullable(),
  /** Block migration: the disks' mirror (total, processed, remaining, rate); absent when no disk is copied. */
  disk: DiskProgressSchema.optional(),
  /** converging | stalled | at-local-minimum | switching ... (the convergence controller's word) */
  verdict: z.string().nullable(),
  mode: MigrationModeSchema.nullable(),
  /** Set while the migration waits for an operator (post-copy recovery escalated): why, and since when. */
  escalation: z.object({ reason: z.string(), why: z.string(), since: z.iso.datetime({ offset: true }) }).nullable().optional(),
  /**
   * Set while a step waits for Placement (unreachable or conflicting: claim, the claim's revert,
   * roll-back's revert, bookkeeping): what waits, Placement's last error, and since when. The
   * verdict then says "waiting for Placement". Cleared once Placement answers.
   */
  placementWait: z.object({ what: z.string(), error: z.string(), since: z.iso.datetime({ offset: true }) }).nullable().optional(),
  /**
   * Set while the migration waits for admission (phase 'admission'): the limit it waits for (e.g.
   * "cluster-wide limit: 4 of 4 migrations run"), since when, and until when it may wait before it
   * is refused. The verdict then says "waiting for admission: <limit>". Cleared once admitted.
   */
  admissionWait: z.object({ limit: z.string(), since: z.iso.datetime({ offset: true }), until: z.iso.datetime({ offset: true }) }).nullable().optional(),
  source: z.string(),
  destination: z.string().nullable(),
  startedAt: z.iso.datetime({ offset: true }),
  updatedAt: z.iso.datetime({ offset: true }),
});
export type Progress = z.output<typeof ProgressSchema>;

/** Numbers (or short facts) that led to a decision, by name. */
export const DecisionInputsSchema = z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()]));

/** One decision and why: `atMs` is milliseconds since the migration started. */
export const DecisionSchema = z.object({
  atMs: z.number().min(0),
  action: z.string().min(1),
  reason: z.string(),
  inputs: DecisionInputsSchema,
});
export type Decision = z.output<typeof DecisionSchema>;

export const OutcomeKindSchema = z.enum(['completed', 'rolled_back', 'aborted', 'failed']);
export type OutcomeKind = z.output<typeof OutcomeKindSchema>;

/** The workflow's result. */
export const OutcomeSchema = z.object({
  migrationId: z.string().min(1),
  outcome: OutcomeKindSchema,
  mode: MigrationModeSchema,
  source: z.string(),
  /** null only when the migration ended before a destination was chosen. */
  destination: z.string().nullable(),
  totalMs: z.number().min(0),
  /** Real downtime from the source's completed job stats; null when none exist (e.g. aborted). */
  downtimeMs: z.number().min(0).nullable(),
  /** Longest stall the guest itself measured: lab guests only. */
  guestMaxStallMs: z.number().min(0).nullable(),
  bytes: bytes.nullable(),
  iterations: z.number().int().min(0).nullable(),
  decisions: z.array(DecisionSchema.extend({ inputs: DecisionInputsSchema.optional() })),
  /** Both hosts' final states as observed, e.g. "running (Migrated)", "none". */
  hosts: z.object({ source: z.string(), destination: z.string() }),
  error: z.object({ message: z.string(), type: z.string() }).optional(),
  resolvedPolicy: ConvergencePolicySchema.optional(),
  vm: z.object({ name: z.string(), uuid: z.string() }).optional(),
});
export type Outcome = z.output<typeof OutcomeSchema>;

// ---------------------------------------------------------------------------------------------
// Operator updates
// ---------------------------------------------------------------------------------------------

export const SetMaxDowntimeInputSchema = strictObject(
  {
    ms: z
      .number()
      .int()
      .min(1)
      .max(2_000_000)
      .describe('New maximum downtime in milliseconds (1..2000000).'),
  },
  'an object { ms }',
);
export type SetMaxDowntimeInput = z.output<typeof SetMaxDowntimeInputSchema>;

export const SetBandwidthInputSchema = strictObject(
  { mibps: z.number().int().min(1).max(1_000_000).describe('New bandwidth limit in MiB/s (1..1000000).') },
  'an object { mibps }',
);
export type SetBandwidthInput = z.output<typeof SetBandwidthInputSchema>;

const AbortInputObjectSchema = strictObject(
  { reason: z.string().max(1024).optional().describe('Why, for the audit.') },
  'an object { reason? }',
);
export type AbortInput = z.output<typeof AbortInputObjectSchema>;
/** Absent input is accepted as `{}` (the Temporal CLI sends none when --input is omitted). */
export const AbortInputSchema: z.ZodType<AbortInput> = z.preprocess((value) => value ?? {}, AbortInputObjectSchema);

const ResumeRecoveryInputObjectSchema = strictObject({}, 'an empty object {}');
export type ResumeRecoveryInput = z.output<typeof ResumeRecoveryInputObjectSchema>;
export const ResumeRecoveryInputSchema: z.ZodType<ResumeRecoveryInput> = z.preprocess((value) => value ?? {}, ResumeRecoveryInputObjectSchema);

const ForceCompleteInputObjectSchema = strictObject({}, 'an empty object {}');
export type ForceCompleteInput = z.output<typeof ForceCompleteInputObjectSchema>;
/** Absent input is accepted as `{}`. */
export const ForceCompleteInputSchema: z.ZodType<ForceCompleteInput> = z.preprocess(
  (value) => value ?? {},
  ForceCompleteInputObjectSchema,
);

/** Every update's result; refusals are thrown by the update's validator, naming why. */
export const UpdateResultSchema = z.object({ accepted: z.literal(true), message: z.string() });
export type UpdateResult = z.output<typeof UpdateResultSchema>;
