/**
 * PURE: the DrainHost workflow's boundary as zod schemas, shared by the workflow, its activities,
 * the typed client and the CLI: the request (host, limits, retries), the facts the planning
 * activity gathers (VMs on the host, room on every other host), the plan, and the report.
 * Workflow-safe: no I/O, no clocks.
 */
import { z } from 'zod';
import { HostNameSchema } from '../types';
import { strictObject } from '../validation';

const count = (what: string, max: number) =>
  z.number().int().min(1).max(max).describe(`${what} (1..${max})`);

/** Resource class -> amount, as Placement counts it (MEMORY_MB, VCPU, DISK_GB, CUSTOM_...). */
export const ResourceAmountsSchema = z.record(z.string(), z.number().int().min(0));
export type ResourceAmounts = z.output<typeof ResourceAmountsSchema>;

// ---- limits -------------------------------------------------------------------------------------

/**
 * Admission limits of one drain. Hosts' own limits (the inventory's maxOutgoingMigrations and
 * maxIncomingMigrations) lower them further: the stricter wins.
 */
export const DrainLimitsSchema = strictObject(
  {
    maxParallel: count('at most this many migrations out of the drained host at once', 64).default(2),
    maxIntoHost: count('at most this many migrations into any one host at once', 64).default(2),
    maxClusterWide: count('at most this many migrations at once in the whole cluster', 256).default(4),
    linkBandwidthMiBps: z.number().int().min(1).max(1_000_000).nullable().default(null)
      .describe('bandwidth budget of each source->destination link in MiB/s (1..1000000); null: no budget'),
    moveBandwidthMiBps: z.number().int().min(1).max(1_000_000).nullable().default(null)
      .describe("each migration's bandwidth cap in MiB/s; null: the link budget (one move per link) or unlimited"),
  },
  'an object { maxParallel?, maxIntoHost?, maxClusterWide?, linkBandwidthMiBps?, moveBandwidthMiBps? }',
);
export type DrainLimits = z.output<typeof DrainLimitsSchema>;

export const DrainRetrySchema = strictObject(
  {
    maxAttempts: count('attempts per VM, the first included, before it is reported failed', 10).default(3),
    initialBackoffSeconds: z.number().int().min(0).max(3600).default(30).describe('wait before the first retry (0..3600 s)'),
    maxBackoffSeconds: z.number().int().min(0).max(86_400).default(600).describe('longest wait between retries (0..86400 s)'),
  },
  'an object { maxAttempts?, initialBackoffSeconds?, maxBackoffSeconds? }',
);
export type DrainRetry = z.output<typeof DrainRetrySchema>;

// ---- the request --------------------------------------------------------------------------------

export const DrainRequestSchema = strictObject(
  {
    host: HostNameSchema.describe('The host to drain (a host of the inventory).'),
    dryRun: z.boolean().default(false).describe('Only plan: nothing is reserved, marked or moved.'),
    limits: DrainLimitsSchema.prefault({}),
    retry: DrainRetrySchema.prefault({}),
    requestedBy: z.string().min(1).max(256).optional().describe('Who asked for the drain (for the audit).'),
  },
  'an object { host, dryRun?, limits?, retry?, requestedBy? }',
);
export type DrainRequestInput = z.input<typeof DrainRequestSchema>;
export type DrainRequest = z.output<typeof DrainRequestSchema>;

/** The workflow id of a host's drain: one drain per host at a time. */
export function drainWorkflowId(host: string): string {
  return `drain-${host}`;
}

// ---- the facts the planning activity gathers ----------------------------------------------------

export const DrainVmSchema = z.object({
  name: z.string().min(1),
  uuid: z.string().uuid(),
  memoryMiB: z.number().int().positive(),
  vcpus: z.number().int().positive(),
  /** What the VM holds in Placement (the room a destination must have); empty: nothing held. */
  resources: ResourceAmountsSchema,
  /** Bytes per second the guest dirties, when measured; null: not known (counted as quiet). */
  dirtyBps: z.number().min(0).nullable(),
  postcopyBlockers: z.array(z.string()),
  /** Why this VM cannot be live-migrated at all (paused, a job, a hostdev), or null. */
  unmovable: z.string().nullable(),
});
export type DrainVm = z.output<typeof DrainVmSchema>;

export const DrainDestinationSchema = z.object({
  host: z.string().min(1),
  /** Free room per resource class (capacity minus used, Placement's numbers). */
  free: ResourceAmountsSchema,
  /** The host is in maintenance (drained or draining): it takes no VM. */
  maintenance: z.boolean(),
  /** UUIDs of the drained host's VMs whose CPU this host cannot run. */
  cpuIncompatible: z.array(z.string()),
  /** The inventory's maxIncomingMigrations, when set. */
  maxIncoming: z.number().int().positive().nullable(),
});
export type DrainDestination = z.output<typeof DrainDestinationSchema>;

export const DrainFactsSchema = z.object({
  host: z.string().min(1),
  /** The inventory's maxOutgoingMigrations of the drained host, when set. */
  maxOutgoing: z.number().int().positive().nullable(),
  vms: z.array(DrainVmSchema),
  destinations: z.array(DrainDestinationSchema),
  /** Hosts that did not answer: they are no destination for this plan. */
  unreachable: z.array(z.object({ host: z.string(), error: z.string() })),
});
export type DrainFacts = z.output<typeof DrainFactsSchema>;

// ---- the plan and the report --------------------------------------------------------------------

export const DrainVmRefSchema = z.object({ name: z.string(), uuid: z.string() });

export const PlannedMoveSchema = z.object({
  vm: DrainVmRefSchema,
  destination: z.string(),
  resources: ResourceAmountsSchema,
  memoryMiB: z.number().int().positive(),
  dirtyBps: z.number().nullable(),
  /** Facts worth knowing that do not stop the move (e.g. post-copy blocked: pre-copy only). */
  notes: z.array(z.string()),
});
export type PlannedMove = z.output<typeof PlannedMoveSchema>;

export const CannotMoveKindSchema = z.enum(['no-room', 'cpu-mismatch', 'no-destination', 'unmovable', 'postcopy-blockers']);
export type CannotMoveKind = z.output<typeof CannotMoveKindSchema>;
export const CannotMoveSchema = z.object({ vm: DrainVmRefSchema, kind: CannotMoveKindSchema, reason: z.string() });
export type CannotMove = z.output<typeof CannotMoveSchema>;

export const DrainPlanSchema = z.object({
  host: z.string(),
  /** The moves in the order they are started. */
  moves: z.array(PlannedMoveSchema),
  cannotMove: z.array(CannotMoveSchema),
  /** Room left on each destination once every planned move is counted. */
  roomLeft: z.record(z.string(), ResourceAmountsSchema),
});
export type DrainPlan = z.output<typeof DrainPlanSchema>;

export const MoveStatusSchema = z.enum(['waiting', 'in-flight', 'moved', 'failed', 'cannot-move', 'cancelled', 'aborted']);
export type MoveStatus = z.output<typeof MoveStatusSchema>;

export const AttemptSchema = z.object({
  destination: z.string(),
  /** completed | failed | aborted | rolled_back | refused (the child never started its work) */
  outcome: z.string(),
  durationMs: z.number().min(0),
  error: z.string().nullable(),
});
export type Attempt = z.output<typeof AttemptSchema>;

export const VmReportSchema = z.object({
  vm: DrainVmRefSchema,
  status: MoveStatusSchema,
  /** Where it went (moved), or where it was headed last. */
  destination: z.string().nullable(),
  attempts: z.array(AttemptSchema),
  /** Why it stayed (cannot move, failed, cancelled), or null when it moved. */
  reason: z.string().nullable(),
});
export type VmReport = z.output<typeof VmReportSchema>;

export const DrainCountsSchema = z.object({
  total: z.number().int(), moved: z.number().int(), inFlight: z.number().int(), waiting: z.number().int(),
  failed: z.number().int(), cannotMove: z.number().int(), cancelled: z.number().int(), aborted: z.number().int(),
});
export type DrainCounts = z.output<typeof DrainCountsSchema>;

export const DrainProgressSchema = z.object({
  host: z.string(),
  /** planning | reserving | draining | cancelling | done */
  phase: z.string(),
  counts: DrainCountsSchema,
  /** From the durations of the moves so far; null until one has ended. */
  etaMs: z.number().min(0).nullable(),
  cancelRequested: z.boolean(),
  vms: z.array(VmReportSchema),
});
export type DrainProgress = z.output<typeof DrainProgressSchema>;

export const DrainReportSchema = z.object({
  host: z.string(),
  /** dry-run: planned only; drained: every VM that could move moved; partial: some stayed; cancelled. */
  result: z.enum(['dry-run', 'drained', 'partial', 'cancelled']),
  plan: DrainPlanSchema,
  counts: DrainCountsSchema,
  vms: z.array(VmReportSchema),
  totalMs: z.number().min(0),
  /** The host's maintenance state as the drain leaves it. */
  maintenance: z.string(),
  /** Reservations released as the drain ended (ids). */
  released: z.array(z.string()),
});
export type DrainReport = z.output<typeof DrainReportSchema>;

export const CancelDrainInputSchema = strictObject(
  {
    abortInFlight: z.boolean().default(false).describe('Also abort the migrations in flight where an abort is still safe (before post-copy).'),
    reason: z.string().max(1024).optional(),
  },
  'an object { abortInFlight?, reason? }',
);
export type CancelDrainInput = z.input<typeof CancelDrainInputSchema>;
