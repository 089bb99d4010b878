import { z } from 'zod';

/**
 * PURE: the convergence policy of one migration. Every field has a default and every field can be
 * overridden per migration; the resolved policy is recorded with the migration so that each
 * decision can be explained later.
 *
 * Iteration numbers follow libvirt's memory_iteration after normalisation: the first pre-copy
 * pass is iteration 1, the first re-send of dirtied pages is iteration 2. "afterIteration: N"
 * means "once iteration N has started" (so 2 = after the first full pass).
 */

export const PostcopyPolicySchema = z
  .object({
    /** Post-copy may be used at all; it still needs the pre-checks' eligibility (no VFIO, vPMEM…). */
    allowed: z.boolean().default(true),
    /**
     * Switch once this iteration starts. 2 = right after the first pass: the pass copies the bulk
     * of memory cheaply while the guest runs, and post-copy then only faults in what was dirtied
     * since (the seeds' measurement: downtime 3.5 s when switching at once, under 1 s after one
     * pass). Never 1: QEMU refuses StartPostCopy before the migration has started.
     */
    afterIteration: z.number().int().min(2).default(2),
    /**
     * When post-copy is taken: 'after-iteration' (at afterIteration, whether or not pre-copy would
     * converge: the default, a fixed schedule) or 'on-stall' (only when the stall detector, the
     * completion budget or an operator says pre-copy will not finish: Nova's and KubeVirt's way).
     * `strategy: auto` sets it for each migration from the forecast.
     */
    when: z.enum(['after-iteration', 'on-stall'], "expected 'after-iteration' or 'on-stall'").default('after-iteration'),
  })
  .prefault({});

export const DowntimePolicySchema = z
  .object({
    /**
     * 100 ms first: oVirt's "Minimal downtime" and Proxmox start there; below QEMU's own 300 ms so
     * that a guest which converges easily also switches over with a short pause.
     */
    initialMs: z.number().int().min(1).max(2_000_000).default(100),
    /**
     * 900 ms ceiling: KubeVirt's maxDowntimeMs. Beyond about a second a guest's TCP peers and
     * watchdogs start to notice; a guest that needs more than that is paused (if allowed) instead.
     */
    maxMs: z.number().int().min(1).max(2_000_000).default(900),
    /**
     * 8 equal steps of (900 - 100) / 8 = 100 ms, one per new iteration: 100, 200 (iteration 2), …,
     * 900 (iteration 9). oVirt raises per iteration too (100 -> 500 by iteration 7) and KubeVirt's
     * downtimeTuning adds 107 ms per iteration up to 900; Nova steps by wall clock (75 s × GiB per
     * step), which for small guests is far too slow to matter before its completion timeout.
     */
    steps: z.number().int().min(1).max(100).default(8),
    /** First raise when this iteration starts (2: once the first pass is done, as oVirt). */
    startAfterIteration: z.number().int().min(1).default(2),
  })
  .prefault({})
  .refine((d) => d.maxMs >= d.initialMs, { message: 'downtime.maxMs must be at least downtime.initialMs' });

export const StallPolicySchema = z
  .object({
    /** KubeVirt VEP 248's stallProgressTimeout: remaining must improve on what it was 40 s ago. */
    windowMs: z.number().int().min(1_000).default(40_000),
    /** KubeVirt's stallMargin: an improvement smaller than 4 % is noise, not progress. */
    marginPct: z.number().min(0).max(50).default(4),
  })
  .prefault({});

export const CompletionPolicySchema = z
  .object({
    /** KubeVirt's completionTimeoutPerGiB (Nova's 800 s/GiB lets a 16 GiB guest try for 3.6 h). */
    secondsPerGiB: z.number().min(1).default(150),
    /** Even a tiny guest gets two minutes: setup alone (destination QEMU start) takes seconds. */
    minSeconds: z.number().min(1).default(120),
    /**
     * What to do when the budget is spent: abort (the guest keeps running on the source: the safe
     * default, as Nova's timeout_action) or force-complete (post-copy, else pause, else abort).
     */
    action: z.enum(['abort', 'force-complete']).default('abort'),
  })
  .prefault({});

export const PausePolicySchema = z
  .object({
    /** Pausing the guest (pre-copy then finishes with its vCPUs stopped) may be used to converge. */
    allowed: z.boolean().default(true),
  })
  .prefault({});

export const PlacementPolicySchema = z
  .object({
    /**
     * How long the claim waits for Placement (unreachable, or conflicting through every re-read)
     * before the migration fails naming it: nothing has changed on either host by then, and ten
     * minutes outlast a Placement restart or a short network outage. The wait shows in the
     * progress. Compensation (moving allocations back) never gives up.
     */
    claimWaitSeconds: z.number().int().min(1).max(86_400).default(600),
  })
  .prefault({});

export const DataPathPolicySchema = z
  .object({
    /**
     * Parallel connections (multifd) where both hosts have them and post-copy is not combined with
     * them (model/data-path.ts). 0: one stream. Off by default: on a link one stream fills, extra
     * connections cost CPU on both hosts and buy nothing; they pay on fast links where a single
     * migration thread is the limit.
     */
    parallelConnections: z.number().int().min(0).max(32).default(0),
    /**
     * Encrypt the migration stream (VIR_MIGRATE_TLS): each host's QEMU uses its certificates
     * (libvirt's migrate_tls_x509_cert_dir) and checks the peer's. Off by default, as in libvirt:
     * it costs CPU on both ends (measured in bench/tls); a link that leaves a trusted network needs it.
     */
    tls: z.boolean().default(false),
  })
  .prefault({});

/**
 * Admission of a single migration (workflows/steps/admission.ts): the limits it shares with drains
 * (model/drain/admission.ts) and how long it may wait for room under them. The defaults are a
 * drain's (`ferry drain --max-parallel 2 --max-into-host 2 --max-cluster 4`), so a single
 * migration and a drain's moves are held to the same numbers; a host's inventory limits
 * (maxOutgoingMigrations, maxIncomingMigrations) lower them.
 */
export const AdmissionPolicySchema = z
  .object({
    /** At most this many migrations out of one host at once (the migration's source). */
    maxOutOfHost: z.number().int().min(1).max(64).default(2),
    /** At most this many migrations into one host at once (the migration's destination). */
    maxIntoHost: z.number().int().min(1).max(64).default(2),
    /** At most this many migrations at once in the whole cluster (the Temporal namespace). */
    maxClusterWide: z.number().int().min(1).max(256).default(4),
    /**
     * How long a migration may wait for admission before it is refused, naming the limit: a
     * quarter of an hour outlasts a few migrations ending; nothing has changed on either host
     * while it waits, so the refusal costs nothing but a new request.
     */
    waitSeconds: z.number().int().min(0).max(86_400).default(900),
  })
  .prefault({});

/** What happens to the guest's disks (model/storage/plan.ts). */
export const StoragePolicySchema = z
  .object({
    /**
     * Disks (target devs: vda, sdb...) never copied by a block migration: the operator vouches the
     * destination has them (an ISO present on every host, say). Shared disks need no entry.
     */
    excludeDisks: z.array(z.string().regex(/^[a-z][a-z0-9]{1,15}$/, 'expected a disk target dev such as vda or sdb')).max(64).default([]),
    /**
     * Room kept free in a destination pool beyond what the copies need, in % of it: a guest keeps
     * writing during the copy, and a full pool would fail the migration halfway (or the host).
     */
    freeSpaceMarginPct: z.number().min(0).max(100).default(10),
  })
  .prefault({});

export const ConvergencePolicySchema = z.object({
  /**
   * 'as-configured': the fields below decide, the same way for every guest. 'auto': before the
   * claim, ferry forecasts every strategy for this guest on this path (model/forecast) and picks:
   * pre-copy when it converges within the budget (post-copy kept for a stall), post-copy after the
   * first pass when it would not and post-copy may be used, pausing as the last resort; a
   * migration nothing allowed would finish is refused before anything moves. Costs the 3 s the
   * dirty rate takes to measure.
   */
  strategy: z.enum(['as-configured', 'auto'], "expected 'as-configured' or 'auto'").default('as-configured'),
  postcopy: PostcopyPolicySchema,
  downtime: DowntimePolicySchema,
  stall: StallPolicySchema,
  completion: CompletionPolicySchema,
  pause: PausePolicySchema,
  placement: PlacementPolicySchema,
  dataPath: DataPathPolicySchema,
  admission: AdmissionPolicySchema,
  storage: StoragePolicySchema,
});

export type ConvergencePolicy = z.infer<typeof ConvergencePolicySchema>;
/** What callers may pass: any subset, the rest defaults. */
export type ConvergencePolicyInput = z.input<typeof ConvergencePolicySchema>;

export const DEFAULT_CONVERGENCE_POLICY: ConvergencePolicy = ConvergencePolicySchema.parse({});

/** The completion budget in ms: secondsPerGiB × guest memory in GiB (rounded up), at least minSeconds. */
export function completionBudgetMs(policy: ConvergencePolicy, memoryMiB: number): number {
  const gib = Math.max(1, Math.ceil(memoryMiB / 1024));
  return Math.round(1000 * Math.max(policy.completion.minSeconds, policy.completion.secondsPerGiB * gib));
}

/**
 * The max-downtime ramp's value at step n (clamped to 0..steps and to maxMs), in whole ms: the
 * schedule the controller follows (workflows/convergence/downtime-ramp.ts) and the forecast
 * predicts with (model/forecast/strategy-forecast.ts), stated once.
 */
export function rampValueMs(d: Pick<ConvergencePolicy['downtime'], 'initialMs' | 'maxMs' | 'steps'>, step: number): number {
  const n = Math.min(Math.max(step, 0), d.steps);
  return Math.min(d.maxMs, Math.round(d.initialMs + (n * (d.maxMs - d.initialMs)) / d.steps));
}

export type ForceCompleteMeans = 'start-postcopy' | 'pause';

/**
 * How a force-complete (operator's or the budget's) is carried out: post-copy if allowed and
 * eligible, else pausing the guest if allowed; null when neither may be used.
 */
export function forceCompleteMeans(policy: ConvergencePolicy, postcopyEligible: boolean): ForceCompleteMeans | null {
  if (policy.postcopy.allowed && postcopyEligible) return 'start-postcopy';
  if (policy.pause.allowed) return 'pause';
  return null;
}
