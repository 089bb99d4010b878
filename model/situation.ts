/**
 * PURE: where the VM really is, from what both hosts report and what is known of the migration
 * job. Every resume after a crash starts by observing both hosts; this table decides the next step.
 * No I/O, no Temporal, no libvirt imports.
 *
 *   (source view, destination view, job view) -> (source class, destination class, job class)
 *     -> the one row of SITUATION_TABLE that matches -> situation -> next step
 *
 * Rules that hold across the table (test/unit/situation checks them on every combination):
 * - An unreachable host is never guessed about: observe again (`retry-observe`).
 * - A guest running on both hosts is never resolved automatically (`escalate`).
 * - Success needs both hosts: the destination holds the guest AND the source runs none.
 * - Once post-copy has started (a post-copy reason on either host) there is no roll back: the
 *   newest memory is split between the hosts; a broken post-copy is recovered, never destroyed.
 *
 * What libvirt 9.0 really reports (test/fixtures/job-stats, recorded on the lab):
 * - The destination refuses job stats during the whole incoming migration ("migration statistics
 *   are available only on the source host"): that refusal IS its incoming job.
 * - After a success the source (shut off, still defined: ferry migrates without UNDEFINE_SOURCE)
 *   keeps a 'completed' record (operation migration_out) for COMPLETED|KEEP_COMPLETED; the
 *   destination keeps one (migration_in) after a pre-copy, none after a post-copy.
 * - After an abort or a failure no host keeps any record (the current job reads 'cancelled' or
 *   'failed' for a few ms, then 'none'); libvirt's message is only in the migrate call's error.
 *   So "source running, no job, no record" is how a failed migration looks.
 * - While the source confirms the switch-over (~1-2 s), the guest already runs on the destination
 *   and the source job is still active.
 *
 * Sources: design.md "Where the VM really is"; anchors.md appendix (Nova's
 * `_live_migration_operation` matrix and oVirt's status pairs).
 */

/** Type of a host's job for the domain, as `virDomainGetJobStats` names it. */
export type JobType = 'none' | 'unbounded' | 'completed' | 'failed' | 'cancelled';

export type DomainState = 'running' | 'paused' | 'shutoff' | 'other';

export interface DomainView {
  state: DomainState;
  /** libvirt's state reason, e.g. 'Migration', 'Postcopy', 'PostcopyFailed', 'Booted', 'User',
   * 'Migrated' (any spelling: 'postcopy-failed', 'POSTCOPY_FAILED' are the same reason). */
  reason: string;
  persistent?: boolean;
}

/** The host's current job for the domain (job stats read without the COMPLETED flag). */
export interface HostJob {
  /**
   * 'unbounded': a job runs (on a destination: libvirt's refusal to report an incoming
   * migration's stats). 'completed' | 'failed' | 'cancelled': the job has just ended and libvirt
   * still reports it as the current one (a few ms). 'none': no job.
   */
  type: JobType;
  /** libvirt's operation name, e.g. 'migration_out', 'migration_in'. */
  operation?: string;
  errorMessage?: string;
}

/** The host's record of the last finished job (COMPLETED|KEEP_COMPLETED), with libvirt's figures. */
export interface FinishedJob {
  type: 'completed' | 'failed' | 'cancelled';
  operation?: string;
  /** libvirt's own error message (`errmsg`, libvirt >= 6.3; libvirt 9.0 sends it for backups only). */
  errorMessage?: string;
  elapsedMs?: number;
  downtimeMs?: number;
  dataProcessed?: number;
  memoryIteration?: number;
  postcopyRequests?: number;
}

export interface HostView {
  reachable: boolean;
  /** 'none': no domain of this VM is defined on the host. Ignored when unreachable. */
  domain: 'none' | DomainView;
  job?: HostJob;
  /** Read only when no job runs; absent when the host keeps no record. */
  finishedJob?: FinishedJob;
}

/**
 * What is known of THIS migration's job: running, or how it ended. Built by `jobViewOf` from the
 * two views (and what the caller learned elsewhere, e.g. the job-completed event).
 */
export interface JobView {
  /** 'unknown': nobody could read it (the source's job was not observed). */
  type: JobType | 'unknown';
  operation?: string;
  errorMessage?: string;
  /** Where it was read, in words (for explanations). */
  from?: string;
}

export const SITUATIONS = [
  'not-started-or-rolled-back',
  'precopy-in-progress',
  'switchover-in-progress',
  'postcopy-running',
  'postcopy-broken',
  'switched-over-source-not-cleaned',
  'done',
  'vm-lost',
  'unknown',
  'split-brain',
  'inconsistent',
] as const;
export type Situation = (typeof SITUATIONS)[number];

export const NEXT_STEPS = [
  'roll-back',
  'keep-watching',
  'wait-then-read-completed-stats',
  'watch-postcopy-never-abort',
  'recover-postcopy',
  'finish-on-source',
  'finish',
  'escalate',
  'retry-observe',
] as const;
export type NextStep = (typeof NEXT_STEPS)[number];

/** Each situation has exactly one next step: the table cannot say two things about one state. */
export const NEXT_STEP_OF: Readonly<Record<Situation, NextStep>> = {
  'not-started-or-rolled-back': 'roll-back',
  'precopy-in-progress': 'keep-watching',
  'switchover-in-progress': 'wait-then-read-completed-stats',
  'postcopy-running': 'watch-postcopy-never-abort',
  'postcopy-broken': 'recover-postcopy',
  'switched-over-source-not-cleaned': 'finish-on-source',
  done: 'finish',
  'vm-lost': 'escalate',
  unknown: 'retry-observe',
  'split-brain': 'escalate',
  // A combination no migration produces (e.g. the "source" shows the receiving side of a
  // post-copy): a machine cannot tell which copy is the guest.
  inconsistent: 'escalate',
};

// ---- the classes the table speaks of ----------------------------------------------------------

/** One host's guest, reduced to what the table needs. */
export const GUEST_CLASSES = [
  'unreachable',
  'absent', // no domain at all
  'defined', // shut off, still defined: no QEMU (after a migration: the source's kept definition)
  'running',
  'running-postcopy', // the receiving side of a post-copy
  'running-postcopy-failed',
  'paused', // paused by someone (User, IOError...): a paused guest, or a migrated paused guest
  'paused-migration', // paused by the migration: switch-over (source) or incoming guest (destination)
  'paused-postcopy', // the sending side of a post-copy
  'paused-postcopy-failed',
  'other', // transitional or odd states (shutting down, crashed, pmsuspended...)
] as const;
export type GuestClass = (typeof GUEST_CLASSES)[number];

export const DESTINATION_CLASSES = [...GUEST_CLASSES, 'not-chosen'] as const;
export type DestinationClass = (typeof DESTINATION_CLASSES)[number];

export const JOB_CLASSES = [
  'active', // the source's job runs
  'completed', // a record says the migration completed
  'failed', // failed or cancelled
  'none', // observed: no job and no record (libvirt 9.0 after an abort or a failure)
  'unobserved',
] as const;
export type JobClass = (typeof JOB_CLASSES)[number];

function normalizedReason(reason: string): string {
  return reason.toLowerCase().replace(/[^a-z]/g, '');
}

export function guestClassOf(view: HostView): GuestClass {
  if (!view.reachable) return 'unreachable';
  const { domain } = view;
  if (domain === 'none') return 'absent';
  if (domain.state === 'shutoff') return 'defined';
  if (domain.state === 'other') return 'other';
  const reason = normalizedReason(domain.reason);
  if (reason === 'postcopy') return `${domain.state}-postcopy`;
  if (reason === 'postcopyfailed') return `${domain.state}-postcopy-failed`;
  if (domain.state === 'running') return 'running';
  // An incoming guest is 'paused (StartingUp)' for its first second (recorded), then 'paused (Migration)'.
  return reason === 'migration' || reason === 'startingup' ? 'paused-migration' : 'paused';
}

export function destinationClassOf(view: HostView | null): DestinationClass {
  return view === null ? 'not-chosen' : guestClassOf(view);
}

export function jobClassOf(job: JobView): JobClass {
  switch (job.type) {
    case 'unbounded': return 'active';
    case 'completed': return 'completed';
    case 'failed':
    case 'cancelled': return 'failed';
    case 'none': return 'none';
    case 'unknown': return 'unobserved';
  }
}

const FINAL_TYPES: ReadonlyArray<JobType> = ['completed', 'failed', 'cancelled'];

/**
 * The migration job as the views show it, merged with what the caller knows (`known`, e.g. from
 * the source's job-completed event). A job running on the source wins: it is the present. Then
 * the caller's knowledge, then the source's record, then the destination's (a pre-copy leaves one
 * there; a post-copy does not). A record of another operation (the VM's arrival on the source,
 * 'migration_in') is not this migration's.
 */
export function jobViewOf(source: HostView, destination: HostView | null, known?: JobView): JobView {
  const src = source.reachable ? source : undefined;
  if (src?.job?.type === 'unbounded') return { ...src.job, type: 'unbounded', from: "the source's current job" };
  if (known && known.type !== 'unknown') return known;
  if (src?.job && FINAL_TYPES.includes(src.job.type)) return { ...src.job, from: "the source's current job, just ended" };
  const out = src?.finishedJob;
  if (out && (out.operation === undefined || out.operation === 'migration_out')) {
    return withoutUndefined({ type: out.type, operation: out.operation, errorMessage: out.errorMessage, from: "the source's finished-job record" });
  }
  const dst = destination?.reachable ? destination.finishedJob : undefined;
  if (dst && dst.operation === 'migration_in') {
    return withoutUndefined({ type: dst.type, operation: dst.operation, errorMessage: dst.errorMessage, from: "the destination's finished-job record" });
  }
  if (src?.job) return { type: 'none', from: 'no job runs and neither host keeps a record' };
  return { type: 'unknown', from: "the source's job was not read" };
}

function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

// ---- the table --------------------------------------------------------------------------------

/** A row's pattern for one input: '*' (any class) or the classes it covers. */
export type Pattern<C extends string> = '*' | readonly C[];

export interface SituationRow {
  source: Pattern<GuestClass>;
  destination: Pattern<DestinationClass>;
  job: Pattern<JobClass>;
  situation: Situation;
  /** Why these observations mean `situation`. */
  why: string;
}

const ANY = '*';
const sourceExcept = (...out: GuestClass[]) => GUEST_CLASSES.filter((c) => !out.includes(c));
const destinationExcept = (...out: DestinationClass[]) => DESTINATION_CLASSES.filter((c) => !out.includes(c));

const RUNNING_ANY = ['running', 'running-postcopy', 'running-postcopy-failed'] as const;
const NO_QEMU = ['absent', 'defined'] as const;
const PAUSED_PLAIN = ['paused', 'paused-migration'] as const;
const SENDING_POSTCOPY = ['paused-postcopy', 'paused-postcopy-failed'] as const;
const RECEIVING_POSTCOPY = ['running-postcopy', 'running-postcopy-failed'] as const;
const NOT_ACTIVE = ['completed', 'failed', 'none', 'unobserved'] as const;

/**
 * Every combination of (source class, destination class, job class) matches exactly one row
 * (test/unit/situation/exhaustive.test.ts enumerates them all). Rows never overlap, so their
 * order means nothing.
 */
export const SITUATION_TABLE: readonly SituationRow[] = [
  // -- never guess: a host that does not answer, or a guest between states --
  { source: ['unreachable'], destination: ANY, job: ANY, situation: 'unknown',
    why: 'the source does not answer; observe both again before acting (never guess from one host)' },
  { source: sourceExcept('unreachable'), destination: ['unreachable'], job: ANY, situation: 'unknown',
    why: 'the destination does not answer; observe both again before acting (never guess from one host)' },
  { source: ['other'], destination: destinationExcept('unreachable'), job: ANY, situation: 'unknown',
    why: 'the source guest is in a transitional or unexpected state; observe again' },
  { source: sourceExcept('unreachable', 'other'), destination: ['other'], job: ANY, situation: 'unknown',
    why: 'the destination guest is in a transitional or unexpected state; observe again' },

  // -- two copies: never resolved by a machine --
  { source: RUNNING_ANY, destination: RUNNING_ANY, job: ANY, situation: 'split-brain',
    why: 'the guest runs on both hosts; an operator must choose' },
  { source: ['running'], destination: ['paused', ...SENDING_POSTCOPY], job: ANY, situation: 'split-brain',
    why: 'the source runs while the destination holds a guest that ran there or post-copy memory: two copies; an operator must choose' },
  { source: RECEIVING_POSTCOPY, destination: destinationExcept('unreachable', 'other', ...RUNNING_ANY), job: ANY, situation: 'inconsistent',
    why: 'the source shows the receiving side of a post-copy: it is not the source of this migration; an operator must look' },

  // -- the guest runs on the source --
  { source: ['running'], destination: ['not-chosen'], job: ANY, situation: 'not-started-or-rolled-back',
    why: 'no destination is chosen yet: the guest runs on the source' },
  { source: ['running'], destination: NO_QEMU, job: ['active'], situation: 'precopy-in-progress',
    why: 'the source job runs and the destination guest is not (or no longer) there: keep watching, the next look tells' },
  { source: ['running'], destination: NO_QEMU, job: NOT_ACTIVE, situation: 'not-started-or-rolled-back',
    why: 'the guest runs on the source only and no job runs' },
  { source: ['running'], destination: ['paused-migration'], job: ['active'], situation: 'precopy-in-progress',
    why: 'pre-copy: the source runs, the incoming guest waits paused' },
  { source: ['running'], destination: ['paused-migration'], job: ['failed', 'none'], situation: 'not-started-or-rolled-back',
    why: 'the source runs and its job is over without a completed record: the paused incoming guest never ran and is a leftover' },
  { source: ['running'], destination: ['paused-migration'], job: ['completed'], situation: 'inconsistent',
    why: 'a record says the migration completed, yet the source runs and the destination guest never started' },
  { source: ['running'], destination: ['paused-migration'], job: ['unobserved'], situation: 'unknown',
    why: "the source's job was not read: whether the incoming guest is still being filled is unknown; observe again" },

  // -- no QEMU on the source: the guest is on the destination, or lost --
  { source: NO_QEMU, destination: ['not-chosen', ...NO_QEMU], job: ANY, situation: 'vm-lost',
    why: 'no QEMU runs the guest on either host' },
  { source: ['absent'], destination: ['running'], job: ANY, situation: 'done',
    why: 'the guest runs on the destination only and the source holds nothing' },
  { source: ['defined'], destination: ['running'], job: ANY, situation: 'switched-over-source-not-cleaned',
    why: 'the guest runs on the destination; the source still holds its inactive definition' },
  { source: ['absent'], destination: ['running-postcopy', ...PAUSED_PLAIN], job: ['completed'], situation: 'done',
    why: 'the job completed and the source holds nothing: the destination holds the whole guest' },
  { source: ['defined'], destination: ['running-postcopy', ...PAUSED_PLAIN], job: ['completed'], situation: 'switched-over-source-not-cleaned',
    why: 'the job completed: the destination holds the whole guest; the source still holds its inactive definition' },
  { source: NO_QEMU, destination: ['running-postcopy', ...PAUSED_PLAIN], job: ['failed'], situation: 'vm-lost',
    why: 'the source QEMU is gone and the job failed: the destination guest never received all of it' },
  { source: NO_QEMU, destination: ['running-postcopy', ...PAUSED_PLAIN], job: ['active', 'none', 'unobserved'], situation: 'switchover-in-progress',
    why: 'the source QEMU is gone and the destination guest is not running on its own yet: wait for it, then read the job records to tell success from loss' },
  { source: NO_QEMU, destination: ['running-postcopy-failed', ...SENDING_POSTCOPY], job: ANY, situation: 'vm-lost',
    why: 'the source QEMU is gone during a post-copy: pages only the source held are lost' },

  // -- a paused guest on the source: paused by someone, or for the switch-over --
  { source: PAUSED_PLAIN, destination: ['not-chosen'], job: ANY, situation: 'not-started-or-rolled-back',
    why: 'no destination is chosen yet: the guest is paused on the source (resume it if ferry paused it)' },
  { source: ['paused'], destination: NO_QEMU, job: ['active'], situation: 'precopy-in-progress',
    why: "a paused guest's migration runs; the destination guest is not (or no longer) there: keep watching" },
  { source: ['paused-migration'], destination: NO_QEMU, job: ['active'], situation: 'switchover-in-progress',
    why: 'the source paused for the switch-over but the destination guest is gone: libvirt is ending the job; wait and look again' },
  { source: PAUSED_PLAIN, destination: NO_QEMU, job: NOT_ACTIVE, situation: 'not-started-or-rolled-back',
    why: 'the guest is paused on the source and nothing is on the destination: roll back (resume it if ferry or the switch-over paused it)' },
  { source: PAUSED_PLAIN, destination: ['running'], job: ['active'], situation: 'switchover-in-progress',
    why: 'the guest already runs on the destination while the source job confirms the switch-over' },
  { source: PAUSED_PLAIN, destination: ['running'], job: NOT_ACTIVE, situation: 'switched-over-source-not-cleaned',
    why: 'the guest runs on the destination; the source still holds the paused guest' },
  { source: PAUSED_PLAIN, destination: ['running-postcopy', 'paused-postcopy'], job: ANY, situation: 'postcopy-running',
    why: 'the destination is in post-copy before the source says so: watch it, never abort it' },
  { source: PAUSED_PLAIN, destination: ['running-postcopy-failed', 'paused-postcopy-failed'], job: ANY, situation: 'postcopy-broken',
    why: 'post-copy failed with both QEMUs alive: resume it with POSTCOPY_RESUME, never destroy either side' },
  { source: ['paused'], destination: ['paused-migration'], job: ['active'], situation: 'precopy-in-progress',
    why: 'a paused guest is being copied: the source job runs, the incoming guest waits' },
  { source: ['paused-migration'], destination: ['paused-migration'], job: ['active'], situation: 'switchover-in-progress',
    why: 'both sides paused by the migration and the source job runs: the switch-over is in progress' },
  { source: PAUSED_PLAIN, destination: ['paused'], job: ['active'], situation: 'switchover-in-progress',
    why: 'the destination already holds the paused guest while the source job confirms the switch-over' },
  { source: PAUSED_PLAIN, destination: PAUSED_PLAIN, job: ['completed'], situation: 'switched-over-source-not-cleaned',
    why: "the job completed: the destination holds the paused guest; the source's QEMU is not cleaned yet" },
  { source: PAUSED_PLAIN, destination: ['paused-migration'], job: ['failed', 'none'], situation: 'not-started-or-rolled-back',
    why: 'the source job is over without a completed record: the paused incoming guest never ran and is a leftover' },
  { source: PAUSED_PLAIN, destination: ['paused'], job: ['failed', 'none'], situation: 'inconsistent',
    why: 'two paused copies and no record says the migration completed: an operator must choose' },
  { source: PAUSED_PLAIN, destination: PAUSED_PLAIN, job: ['unobserved'], situation: 'unknown',
    why: "the source's job was not read: switch-over, paused copy or leftover cannot be told apart; observe again" },

  // -- post-copy on the source: forward only --
  { source: SENDING_POSTCOPY, destination: ['not-chosen'], job: ANY, situation: 'inconsistent',
    why: 'the source is in post-copy toward a host this migration did not choose; an operator must look' },
  { source: SENDING_POSTCOPY, destination: NO_QEMU, job: ANY, situation: 'vm-lost',
    why: 'the destination QEMU is gone during post-copy: the source alone has stale memory' },
  { source: ['paused-postcopy'], destination: ['running'], job: ['active'], situation: 'switchover-in-progress',
    why: 'post-copy finished on the destination while the source job is still ending' },
  { source: ['paused-postcopy'], destination: ['running'], job: NOT_ACTIVE, situation: 'switched-over-source-not-cleaned',
    why: 'post-copy finished: the guest runs on the destination; the source still holds its paused QEMU' },
  { source: ['paused-postcopy'], destination: ['running-postcopy', ...PAUSED_PLAIN, 'paused-postcopy'], job: ANY, situation: 'postcopy-running',
    why: 'post-copy is running: watch it, never abort it' },
  { source: ['paused-postcopy'], destination: ['running-postcopy-failed', 'paused-postcopy-failed'], job: ANY, situation: 'postcopy-broken',
    why: 'post-copy failed with both QEMUs alive: resume it with POSTCOPY_RESUME, never destroy either side' },
  { source: ['paused-postcopy-failed'], destination: destinationExcept('unreachable', 'other', 'not-chosen', ...NO_QEMU), job: ANY, situation: 'postcopy-broken',
    why: 'post-copy failed with both QEMUs alive: resume it with POSTCOPY_RESUME, never destroy either side' },
];

const covers = <C extends string>(p: Pattern<C>, c: C) => p === '*' || p.includes(c);

/** The rows of `table` that match a combination (of SITUATION_TABLE: exactly one, tested). */
export function rowsMatching(
  source: GuestClass, destination: DestinationClass, job: JobClass, table: readonly SituationRow[] = SITUATION_TABLE,
): SituationRow[] {
  return table.filter((r) => covers(r.source, source) && covers(r.destination, destination) && covers(r.job, job));
}

// ---- the verdict ------------------------------------------------------------------------------

export interface SituationVerdict {
  situation: Situation;
  next: NextStep;
  /** Names both observed states, why they mean `situation`, and the job view it rests on. */
  explanation: string;
  /** Each host's state in words, e.g. "paused (Postcopy), job active", "absent", "unreachable". */
  observed: { source: string; destination: string };
  /** The job view the table was consulted with. */
  job: JobView;
  /** The classes the observations fell into, and the index of the table row that matched. */
  classes: { source: GuestClass; destination: DestinationClass; job: JobClass };
  row: number;
}

/** A host's state in words, for explanations and the outcome's `hosts` field. */
export function describeHost(view: (HostView & { error?: string }) | null): string {
  if (view === null) return 'none (no destination chosen)';
  if (!view.reachable) return view.error ? `unreachable (${view.error})` : 'unreachable';
  const { domain } = view;
  if (domain === 'none') return 'absent';
  const reason = domain.reason ? ` (${domain.reason})` : '';
  const persistent = domain.state === 'shutoff' && domain.persistent !== false ? ', still defined' : '';
  const job = view.job?.type === 'unbounded' ? (view.job.operation === 'migration_in' ? ', incoming migration' : ', job active') : '';
  return `${domain.state}${reason}${persistent}${job}`;
}

/** The job view in words. */
export function describeJob(job: JobView): string {
  const from = job.from ? ` (${job.from})` : '';
  switch (job.type) {
    case 'unbounded': return `job active${from}`;
    case 'none': return `no job${from}`;
    case 'unknown': return `job not observed${from}`;
    default: return `job ${job.type}${job.errorMessage ? `: ${job.errorMessage}` : ''}${from}`;
  }
}

/**
 * Where the VM really is. `destination` null: no destination was chosen yet (nothing can exist
 * there). `job`: the migration job's view; by default what the two views show (`jobViewOf`).
 */
export function classifySituation(source: HostView, destination: HostView | null, job: JobView = jobViewOf(source, destination)): SituationVerdict {
  const classes = { source: guestClassOf(source), destination: destinationClassOf(destination), job: jobClassOf(job) };
  const rows = rowsMatching(classes.source, classes.destination, classes.job);
  if (rows.length !== 1) {
    // Unreachable by construction (the exhaustive test); a loud error rather than a guess.
    throw new Error(`situation table: ${rows.length} rows match ${JSON.stringify(classes)}`);
  }
  const row = rows[0]!;
  const observed = { source: describeHost(source), destination: describeHost(destination) };
  return {
    situation: row.situation,
    next: NEXT_STEP_OF[row.situation],
    explanation: `source ${observed.source}, destination ${observed.destination}: ${row.why}; ${describeJob(job)}`,
    observed,
    job,
    classes,
    row: SITUATION_TABLE.indexOf(row),
  };
}
