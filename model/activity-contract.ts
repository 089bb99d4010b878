/**
 * PURE: the activities' contract. What the workflows send to and get from every activity, as zod
 * schemas (checked at the worker's boundary, activities/contract-guard.ts) and as the explicit
 * `FerryActivities` interface that workflows proxy and activities/ implement. Neither side imports
 * the other: both import this file.
 */
import { z } from 'zod';
import { DataPathSchema, PairStacksSchema } from './data-path';
import type { HostView } from './situation';
import {
  GatherDrainFactsInputSchema, ReleaseRoomInputSchema, ReserveRoomInputSchema, ReserveRoomResultSchema, SetHostMaintenanceInputSchema,
  SetHostMaintenanceResultSchema,
} from './drain/activity-io';
import { DrainFactsSchema } from './drain/schemas';
import { InFlightCountsSchema, MigrationsInFlightInputSchema } from './migrations-in-flight';
import { CheckStorageInputSchema, DestinationVolumesInputSchema, DestinationVolumesResultSchema, DiskCopySchema } from './storage/activity-io';
import { StorageFactsSchema } from './storage/facts';
import { DiskProgressSchema } from './storage/disk-progress';
import { ForecastFactsInputSchema, ForecastFactsSchema } from './forecast/schemas';

// ---- shared pieces ------------------------------------------------------------------------------

export const VmFactsSchema = z.object({
  name: z.string().min(1),
  uuid: z.string().uuid(),
  memoryMiB: z.number().int().positive(),
  vcpus: z.number().int().positive(),
});
export type VmFacts = z.infer<typeof VmFactsSchema>;

export const CheckResultSchema = z.object({ check: z.string(), ok: z.boolean(), detail: z.string() });
export type CheckResult = z.infer<typeof CheckResultSchema>;

const JobTypeSchema = z.enum(['none', 'unbounded', 'completed', 'failed', 'cancelled']);
export const DomainViewSchema = z.object({
  state: z.enum(['running', 'paused', 'shutoff', 'other']),
  reason: z.string(),
  persistent: z.boolean().optional(),
});
/** The host's record of its last finished job (COMPLETED|KEEP_COMPLETED), with libvirt's figures. */
export const FinishedJobSchema = z.object({
  type: z.enum(['completed', 'failed', 'cancelled']),
  operation: z.string().optional(),
  errorMessage: z.string().optional(),
  elapsedMs: z.number().optional(),
  downtimeMs: z.number().optional(),
  dataProcessed: z.number().optional(),
  memoryIteration: z.number().optional(),
  postcopyRequests: z.number().optional(),
});
/** What one host shows of the VM (the situation table's input), with the error when unreachable. */
export const HostDomainViewSchema = z.object({
  reachable: z.boolean(),
  domain: z.union([z.literal('none'), DomainViewSchema]),
  job: z.object({ type: JobTypeSchema, operation: z.string().optional(), errorMessage: z.string().optional() }).optional(),
  finishedJob: FinishedJobSchema.optional(),
  error: z.string().optional(),
});
export type HostDomainView = HostView & { error?: string };
// The schema and the situation table's own type must describe the same thing.
const _hostViewMatches: z.ZodType<HostDomainView> = HostDomainViewSchema;
void _hostViewMatches;

// ---- locate (the CLI asks the worker where a VM is: the operator's side needs only Temporal) ----

export const LocateVmInputSchema = z.object({ vm: z.string().min(1) });
export type LocateVmInput = z.infer<typeof LocateVmInputSchema>;
export const LocateVmResultSchema = z.object({
  found: z.array(z.object({ host: z.string(), name: z.string(), uuid: z.string().uuid(), state: z.string(), reason: z.string() })),
  /** Hosts that did not answer: a VM may hide there. */
  unreachable: z.array(z.object({ host: z.string(), error: z.string() })),
  hosts: z.array(z.string()),
});
export type LocateVmResult = z.infer<typeof LocateVmResultSchema>;

// ---- pre-checks -----------------------------------------------------------------------------------

export const SourceCheckInputSchema = z.object({ vm: z.string().min(1), source: z.string().optional() });
export type SourceCheckInput = z.infer<typeof SourceCheckInputSchema>;
export const SourceCheckResultSchema = z.object({
  vm: VmFactsSchema,
  source: z.string(),
  state: z.enum(['running', 'paused']),
  postcopyBlockers: z.array(z.string()),
  checks: z.array(CheckResultSchema),
});
export type SourceCheckResult = z.infer<typeof SourceCheckResultSchema>;

export const ChooseDestinationInputSchema = z.object({
  vm: VmFactsSchema,
  source: z.string(),
  /** A host the operator named; 'check' verifies it has room, 'force' skips the candidate query. */
  requested: z.object({ host: z.string(), mode: z.enum(['force', 'check']) }).optional(),
});
export type ChooseDestinationInput = z.infer<typeof ChooseDestinationInputSchema>;
export const ChooseDestinationResultSchema = z.object({
  destination: z.string(),
  how: z.enum(['forced', 'checked', 'placement']),
  detail: z.string(),
});
export type ChooseDestinationResult = z.infer<typeof ChooseDestinationResultSchema>;

export const DestinationCheckInputSchema = z.object({ vm: VmFactsSchema, source: z.string(), destination: z.string() });
export type DestinationCheckInput = z.infer<typeof DestinationCheckInputSchema>;
export const DestinationCheckResultSchema = z.object({
  checks: z.array(CheckResultSchema),
  /** Post-copy is possible on this path (QEMU/libvirt support on both ends). */
  postcopySupported: z.boolean(),
  /** Both hosts' libvirt and QEMU versions (absent in runs recorded before they were reported). */
  stacks: PairStacksSchema.optional(),
});
export type DestinationCheckResult = z.infer<typeof DestinationCheckResultSchema>;

// ---- claim in Placement ---------------------------------------------------------------------------

export const ClaimInputSchema = z.object({
  migrationId: z.string().uuid(), vm: VmFactsSchema, source: z.string(), destination: z.string(),
  /** A drain's reservation consumer holding the room on the destination: the claim takes it over (one atomic write). */
  reservationId: z.string().uuid().optional(),
});
export type ClaimInput = z.infer<typeof ClaimInputSchema>;
export const ClaimResultSchema = z.object({ outcome: z.enum(['claimed', 'already-claimed']), detail: z.string() });
export type ClaimResult = z.infer<typeof ClaimResultSchema>;
export const RevertClaimInputSchema = z.object({ migrationId: z.string().uuid(), vmUuid: z.string().uuid() });
export type RevertClaimInput = z.infer<typeof RevertClaimInputSchema>;
export const DropMigrationClaimInputSchema = z.object({
  migrationId: z.string().uuid(),
  /** The VM's consumer: when given, the drop is refused (PlacementInconsistent) while the VM holds no allocation at all. */
  vmUuid: z.string().uuid().optional(),
});
export type DropMigrationClaimInput = z.infer<typeof DropMigrationClaimInputSchema>;

/**
 * ApplicationFailure types of the Placement activities (claim, revertClaim, dropMigrationClaim,
 * chooseDestinationHost, finishMigration's drop). Retryable ones mean "waiting for Placement":
 * retry patiently, the outcome is not in question. Non-retryable ones carry nonRetryable=true.
 */
export const PLACEMENT_WAIT_FAILURES = ['PlacementUnavailable', 'PlacementConflict'] as const;
export const PLACEMENT_STUCK_FAILURES = ['PlacementInconsistent', 'PlacementRejected', 'PlacementProtocol'] as const;

// ---- prepare and start ----------------------------------------------------------------------------

/**
 * The destination XML never crosses this boundary on the current path: it carries VNC/SPICE
 * passwords and whatever crosses lands in Temporal's history. Its sha256 `fingerprint` does, and
 * the activities that need the XML rebuild it (activities/destination-xml.ts). `destXml` stays for
 * runs begun before (their workflow, without `xmlOutOfHistory`, still expects it).
 */
export const DestXmlFingerprintSchema = z.string().regex(/^sha256:[0-9a-f]{64}$/);
export const PrepareInputSchema = z.object({
  vm: VmFactsSchema, source: z.string(), destination: z.string(),
  /** Keys the destination's vPMEM namespace assignment (start and recovery find the same). Absent in older runs. */
  migrationId: z.string().uuid().optional(),
  /** Set by the current workflow: return the fingerprint only, never the XML. */
  xmlOutOfHistory: z.boolean().optional(),
});
export type PrepareInput = z.infer<typeof PrepareInputSchema>;
export const PrepareResultSchema = z.object({
  /** Only for runs begun before the XML left the history. */
  destXml: z.string().min(1).optional(),
  fingerprint: DestXmlFingerprintSchema.optional(),
  /** What was rewritten, without any secret value (model/redact-secrets.ts). */
  changes: z.array(z.string()),
}).refine((r) => r.destXml !== undefined || r.fingerprint !== undefined, { message: 'either destXml or fingerprint' });
export type PrepareResult = z.infer<typeof PrepareResultSchema>;

export const StartInputSchema = z.object({
  migrationId: z.string().uuid(),
  vm: VmFactsSchema,
  source: z.string(),
  destination: z.string(),
  /** Runs begun before the XML left the history (their retries); the current path sends the fingerprint. */
  destXml: z.string().min(1).optional(),
  /** The prepared XML's fingerprint: the activity rebuilds the XML and checks it is the same. */
  destXmlFingerprint: DestXmlFingerprintSchema.optional(),
  postcopy: z.boolean(),
  bandwidthMiBps: z.number().positive().nullable(),
  initialMaxDowntimeMs: z.number().int().positive().nullable(),
  /** What the stream uses beyond plain pre-copy (model/data-path.ts); absent: plain, as before. */
  dataPath: DataPathSchema.optional(),
  /** Block migration: the target devs libvirt copies (NON_SHARED_DISK + migrate_disks); absent or empty: none. */
  migrateDisks: z.array(z.string().min(1)).optional(),
  /**
   * Disks ferry's storage plan proved shared (probe) with a cache mode safe for sharing: libvirt's
   * own check, by filesystem type, is waived for them (VIR_MIGRATE_UNSAFE). Absent or empty: not.
   */
  sharedDisksVouched: z.array(z.string().min(1)).optional(),
});
export type StartInput = z.infer<typeof StartInputSchema>;
export const StartResultSchema = z.object({ outcome: z.enum(['started', 'already-running', 'already-done']) });
export type StartResult = z.infer<typeof StartResultSchema>;

// ---- watch and steer ------------------------------------------------------------------------------

export const MigrationModeOrSetupSchema = z.enum(['setup', 'precopy', 'postcopy', 'paused']);

export const WatchInputSchema = z.object({
  vm: VmFactsSchema,
  source: z.string(),
  destination: z.string(),
  /** Return at the latest after this long (a decision point for timers). */
  maxWaitMs: z.number().int().positive(),
  /** The last iteration the workflow has seen: a new one is a decision point. */
  lastIteration: z.number().int().nullable(),
  /** The mode the workflow believes: a change is a decision point. */
  lastMode: MigrationModeOrSetupSchema,
});
export type WatchInput = z.infer<typeof WatchInputSchema>;

export const MigrationSampleSchema = z.object({
  /** 'running': the job runs; 'ended': no job any more (read the hosts to know how it ended). */
  job: z.enum(['running', 'ended']),
  mode: MigrationModeOrSetupSchema,
  elapsedMs: z.number(),
  iteration: z.number().int().nullable(),
  dataTotal: z.number(),
  dataRemaining: z.number(),
  dataProcessed: z.number(),
  memoryBps: z.number().nullable(),
  dirtyBps: z.number().nullable(),
  expectedDowntimeMs: z.number().nullable(),
  /** Block migration: the disks' mirror, part of the data figures (absent: no disk copied). */
  disk: DiskProgressSchema.optional(),
  postcopyFailed: z.boolean(),
  /** The job ended in error: libvirt's own message (from the migrate call; its stats keep none). */
  jobError: z.string().optional(),
  source: HostDomainViewSchema,
  destination: HostDomainViewSchema,
});
export type MigrationSample = z.infer<typeof MigrationSampleSchema>;

export const MigrationActionSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('set-max-downtime'), ms: z.number().int().positive() }),
  z.object({ kind: z.literal('set-bandwidth'), mibps: z.number().positive() }),
  z.object({ kind: z.literal('start-postcopy') }),
  z.object({ kind: z.literal('pause') }),
  z.object({ kind: z.literal('abort') }),
  z.object({ kind: z.literal('resume-and-abort') }),
]);
export type MigrationAction = z.infer<typeof MigrationActionSchema>;

/** `destination`: the guard observes both hosts before an abort. */
export const ApplyActionInputSchema = z.object({ vm: VmFactsSchema, source: z.string(), destination: z.string(), action: MigrationActionSchema });
export type ApplyActionInput = z.infer<typeof ApplyActionInputSchema>;

export const RecoverInputSchema = z.object({
  vm: VmFactsSchema,
  source: z.string(),
  destination: z.string(),
  /** Runs begun before the XML left the history; the current path sends the fingerprint. */
  destXml: z.string().optional(),
  destXmlFingerprint: DestXmlFingerprintSchema.optional(),
  /** Resume attempts the workflow has already spent on this migration (refusals meaning "not yet" are not spent). */
  attemptsSoFar: z.number().int().nonnegative().optional(),
  /** The bound: once spent, the activity returns 'escalate' (attempts-exhausted) and never destroys either side. */
  maxAttempts: z.number().int().positive().optional(),
  /** How long one call may observe and wait ("not yet") before it returns to the workflow. */
  maxWaitMs: z.number().int().positive().optional(),
  /** How long a "not yet" may last (across calls: the workflow passes when it began) before escalating. */
  patienceMs: z.number().int().positive().optional(),
  notYetSinceMs: z.number().optional(),
});
export type RecoverInput = z.infer<typeof RecoverInputSchema>;

/**
 * What a recovery call found and did. 'resumed': post-copy runs again or completed after our
 * resume; 'finished-on-its-own': QEMU completed without us (finish, do not resume); 'not-yet': call
 * again (reason says why); 'escalate': an operator must act; neither side was destroyed.
 */
export const RecoverResultSchema = z.object({
  outcome: z.enum(['resumed', 'finished-on-its-own', 'not-yet', 'escalate']),
  /** For 'not-yet' and 'escalate': model/postcopy-recovery.ts's RecoveryNotYet / RecoveryEscalation. */
  reason: z.string().optional(),
  why: z.string(),
  /** Resume attempts this call spent (refusals meaning "not yet" excluded) and the errors it met. */
  attempts: z.number().int().nonnegative(),
  errors: z.array(z.string()),
  /** Since when the current "not yet" lasts (epoch ms), for the next call's patience. */
  notYetSinceMs: z.number().optional(),
  hosts: z.object({ source: z.string(), destination: z.string() }),
});
export type RecoverResult = z.infer<typeof RecoverResultSchema>;

// ---- finish and roll back -------------------------------------------------------------------------

export const FinishInputSchema = z.object({
  migrationId: z.string().uuid(), vm: VmFactsSchema, source: z.string(), destination: z.string(),
  /** Block migration: the copied disks, whose source volumes go once both hosts agree the guest moved (absent: none). */
  diskCopies: z.array(DiskCopySchema).optional(),
});
export type FinishInput = z.infer<typeof FinishInputSchema>;
export const FinalStatsSchema = z.object({
  downtimeMs: z.number().nullable(),
  totalMs: z.number().nullable(),
  bytes: z.number().nullable(),
  iterations: z.number().nullable(),
  postcopyRequests: z.number().nullable(),
});
export type FinalStats = z.infer<typeof FinalStatsSchema>;
export const FinishResultSchema = z.object({
  stats: FinalStatsSchema,
  hosts: z.object({ source: z.string(), destination: z.string() }),
  /**
   * What finish left undone and why: the source definition kept because the guard refused
   * (both hosts observed again showed the guest not, or no longer, on the destination alone), or
   * libvirt's refusal to undefine it. Optional: results recorded before it existed have none.
   */
  notes: z.array(z.string()).optional(),
  /** Block migration: what became of the copied disks' source volumes (absent: no disk copied). */
  volumes: z.array(z.string()).optional(),
});
export type FinishResult = z.infer<typeof FinishResultSchema>;

export const RollbackInputSchema = z.object({
  migrationId: z.string().uuid(),
  vm: VmFactsSchema,
  source: z.string(),
  destination: z.string().nullable(),
  /** The workflow paused the guest (pause fallback): resume it on the source. */
  resumeIfPaused: z.boolean(),
  /** Block migration: the copied disks, whose destination volumes this migration created go (absent: none). */
  diskCopies: z.array(DiskCopySchema).optional(),
  /**
   * A Placement outage (PLACEMENT_WAIT_FAILURES) while moving the allocations back: 'retry'
   * (absent) fails the attempt and the retry policy waits it out, unseen; 'report' finishes the
   * roll-back on the hosts and says so in `placementWait`, and the workflow waits for Placement
   * itself (revertClaim), showing the wait in its progress.
   */
  placementOutage: z.enum(['retry', 'report']).optional(),
});
export type RollbackInput = z.infer<typeof RollbackInputSchema>;
export const RollbackResultSchema = z.object({
  /**
   * 'rolled-back': the guest runs (or stays paused) on the source and what the migration left is
   * undone. 'refused': the guard found the guest elsewhere (switched over, post-copy, split
   * brain, lost): nothing was touched; `next` says what to do instead. Absent in results recorded
   * before the guard: those were rollbacks.
   */
  outcome: z.enum(['rolled-back', 'refused']).optional(),
  situation: z.string().optional(),
  next: z.string().optional(),
  explanation: z.string().optional(),
  hosts: z.object({ source: z.string(), destination: z.string() }),
  steps: z.array(z.string()),
  /** placementOutage 'report': the allocations are not moved back yet, Placement did not answer (its error). */
  placementWait: z.string().optional(),
});
export type RollbackResult = z.infer<typeof RollbackResultSchema>;

// ---- the lab guest's stall meter (null outside the lab) -------------------------------------------

/** A mark in a lab guest's heartbeat log (opaque to the workflow); null outside the lab. */
export const GuestMeterMarkSchema = z.record(z.string(), z.unknown()).nullable();
export type GuestMeterMark = z.infer<typeof GuestMeterMarkSchema>;
export const GuestStallMarkInputSchema = z.object({ vmName: z.string() });
export const GuestStallSinceInputSchema = z.object({ vmName: z.string(), mark: GuestMeterMarkSchema });

// ---- the contract ---------------------------------------------------------------------------------

/**
 * Every activity: its input and output schema. The worker checks both at the boundary; the
 * workflow proxies the names (`FerryActivities`). Adding an activity here without implementing it
 * fails the type check of activities/index.ts.
 */
export const ACTIVITY_CONTRACT = {
  locateVm: { input: LocateVmInputSchema, output: LocateVmResultSchema },
  checkSource: { input: SourceCheckInputSchema, output: SourceCheckResultSchema },
  chooseDestinationHost: { input: ChooseDestinationInputSchema, output: ChooseDestinationResultSchema },
  checkDestination: { input: DestinationCheckInputSchema, output: DestinationCheckResultSchema },
  /** The guest's disks on both hosts, shared or not proven by a probe (model/storage). */
  checkStorage: { input: CheckStorageInputSchema, output: StorageFactsSchema },
  /** Block migration: the destination volumes of the copied disks, created by this migration. */
  createDestinationVolumes: { input: DestinationVolumesInputSchema, output: DestinationVolumesResultSchema },
  claim: { input: ClaimInputSchema, output: ClaimResultSchema },
  revertClaim: { input: RevertClaimInputSchema, output: z.string() },
  dropMigrationClaim: { input: DropMigrationClaimInputSchema, output: z.boolean() },
  prepareDestination: { input: PrepareInputSchema, output: PrepareResultSchema },
  startMigration: { input: StartInputSchema, output: StartResultSchema },
  watchMigration: { input: WatchInputSchema, output: MigrationSampleSchema },
  applyAction: { input: ApplyActionInputSchema, output: z.string() },
  recoverPostcopy: { input: RecoverInputSchema, output: RecoverResultSchema },
  finishMigration: { input: FinishInputSchema, output: FinishResultSchema },
  /** finishMigration without Placement: judge from both hosts, final stats, clean the source. Then dropMigrationClaim. */
  finishOnHosts: { input: FinishInputSchema, output: FinishResultSchema },
  rollbackMigration: { input: RollbackInputSchema, output: RollbackResultSchema },
  guestStallMark: { input: GuestStallMarkInputSchema, output: GuestMeterMarkSchema },
  guestStallSince: { input: GuestStallSinceInputSchema, output: z.number().nullable() },
  // The drain (workflows/drain-host.ts): its facts, the host's maintenance mark, the room it holds.
  gatherDrainFacts: { input: GatherDrainFactsInputSchema, output: DrainFactsSchema },
  setHostMaintenance: { input: SetHostMaintenanceInputSchema, output: SetHostMaintenanceResultSchema },
  reserveRoom: { input: ReserveRoomInputSchema, output: ReserveRoomResultSchema },
  releaseRoom: { input: ReleaseRoomInputSchema, output: z.boolean() },
  // Admission shared by drains and single migrations: every other migration in flight, from visibility.
  migrationsInFlight: { input: MigrationsInFlightInputSchema, output: InFlightCountsSchema },
  // The forecast (workflows/forecast-migration.ts): the guest's dirty rate and the hosts' link speeds.
  gatherForecastFacts: { input: ForecastFactsInputSchema, output: ForecastFactsSchema },
} as const;

export type ActivityName = keyof typeof ACTIVITY_CONTRACT;

/** The activities as the workflow sees them: (input) -> Promise<output>, from the contract. */
export type FerryActivities = {
  [K in ActivityName]: (
    input: z.input<(typeof ACTIVITY_CONTRACT)[K]['input']>,
  ) => Promise<z.output<(typeof ACTIVITY_CONTRACT)[K]['output']>>;
};
