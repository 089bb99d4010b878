/**
 * FROZEN: the situation classifier as it was before the table of model/situation.ts (ferry's
 * first release). Migrations started on that release replay their histories through it: the
 * watch loop asks `patched('situation-table-v2')` and uses this version when the history says the
 * run began without the table, so a deploy does not change decisions already taken. Never edit;
 * delete once no migration started before the table can still be running.
 *
 * PURE: where the VM really is, from what both hosts report. Every resume after a crash starts by
 * observing both hosts; this table decides the next step. No I/O, no Temporal, no libvirt imports.
 *
 * Rules that hold across the table:
 * - An unreachable host is never guessed about: observe again (`retry-observe`).
 * - A guest running on both hosts is never resolved automatically (`escalate`).
 * - Success needs both hosts: the destination running AND the source without a live guest.
 * - Once post-copy has started (a post-copy reason on either host) there is no roll back: the
 *   newest memory is split between the hosts; a broken post-copy is recovered, never destroyed.
 *
 * Sources: design.md "Where the VM really is"; anchors.md appendix (Nova's
 * `_live_migration_operation` matrix and oVirt's status pairs).
 */

/** Type of a host's job for the domain, as `virDomainGetJobStats` names it. */
type JobType = 'none' | 'unbounded' | 'completed' | 'failed' | 'cancelled';

type DomainState = 'running' | 'paused' | 'shutoff' | 'other';

interface DomainView {
  state: DomainState;
  /** libvirt's state reason, e.g. 'Migration', 'Postcopy', 'PostcopyFailed', 'Booted', 'User',
   * 'Migrated' (any spelling: 'postcopy-failed', 'POSTCOPY_FAILED' are the same reason). */
  reason: string;
  persistent?: boolean;
}

interface HostView {
  reachable: boolean;
  /** 'none': no domain of this VM is defined on the host. Ignored when unreachable. */
  domain: 'none' | DomainView;
  /** The host's current job for the domain (without the COMPLETED flag: 'unbounded' = active). */
  job?: { type: JobType; errorMessage?: string };
}

/**
 * The migration job's final record as the source reported it (job-completed event, or job stats
 * read with COMPLETED|KEEP_COMPLETED), when the workflow has one.
 */
interface JobView {
  type: JobType;
  errorMessage?: string;
}

const SITUATIONS = [
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
] as const;
type Situation = (typeof SITUATIONS)[number];

const NEXT_STEPS = [
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
type NextStep = (typeof NEXT_STEPS)[number];

/** Each situation has exactly one next step: the table cannot say two things about one state. */
const NEXT_STEP_OF: Readonly<Record<Situation, NextStep>> = {
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
};

interface SituationVerdict {
  situation: Situation;
  next: NextStep;
  /** Names both observed states and why they mean `situation`. */
  explanation: string;
  /** Each host's state in words, e.g. "paused (Postcopy)", "none", "unreachable". */
  observed: { source: string; destination: string };
}

/** One host's guest, reduced to what the table needs. */
type Guest =
  | 'absent' // no domain, or defined but shut off: no QEMU process
  | 'running'
  | 'running-postcopy'
  | 'running-postcopy-failed'
  | 'paused'
  | 'paused-postcopy'
  | 'paused-postcopy-failed'
  | 'other'; // transitional or odd states (shutting down, crashed, pmsuspended...)

function normalizedReason(reason: string): string {
  return reason.toLowerCase().replace(/[^a-z]/g, '');
}

function guestOf(domain: HostView['domain']): Guest {
  if (domain === 'none' || domain.state === 'shutoff') return 'absent';
  if (domain.state === 'other') return 'other';
  const reason = normalizedReason(domain.reason);
  const suffix = reason === 'postcopy' ? '-postcopy' : reason === 'postcopyfailed' ? '-postcopy-failed' : '';
  return `${domain.state}${suffix}` as Guest;
}

/** A host's state in words, for explanations and the outcome's `hosts` field. */
function describeHost(view: HostView | null): string {
  if (view === null) return 'none (no destination chosen)';
  if (!view.reachable) return 'unreachable';
  const { domain } = view;
  if (domain === 'none') return 'none';
  const reason = domain.reason ? ` (${domain.reason})` : '';
  const persistent = domain.state === 'shutoff' && domain.persistent !== false ? ', still defined' : '';
  return `${domain.state}${reason}${persistent}`;
}

const isRunning = (g: Guest) => g === 'running' || g === 'running-postcopy' || g === 'running-postcopy-failed';
const isPaused = (g: Guest) => g === 'paused' || g === 'paused-postcopy' || g === 'paused-postcopy-failed';
const isPostcopy = (g: Guest) => g.includes('postcopy');
const isPostcopyFailed = (g: Guest) => g.endsWith('postcopy-failed');

/**
 * Where the VM really is. `destination` null: no destination was chosen yet (nothing can exist
 * there). `job`: the migration's final record from the source, when known.
 */
export function classifySituationV1(source: HostView, destination: HostView | null, job?: JobView): SituationVerdict {
  const observed = { source: describeHost(source), destination: describeHost(destination) };
  const both = `source ${observed.source}, destination ${observed.destination}`;
  const verdict = (situation: Situation, why: string): SituationVerdict => ({
    situation,
    next: NEXT_STEP_OF[situation],
    explanation: `${both}: ${why}`,
    observed,
  });

  if (!source.reachable || (destination !== null && !destination.reachable)) {
    const which = !source.reachable && destination !== null && !destination.reachable
      ? 'neither host answers'
      : !source.reachable ? 'the source does not answer' : 'the destination does not answer';
    return verdict('unknown', `${which}; observe both again before acting (never guess from one host)`);
  }

  const src = guestOf(source.domain);
  const dst = destination === null ? 'absent' : guestOf(destination.domain);
  const sourceActive = source.job?.type === 'unbounded';
  const finished = job?.type ?? (source.job && source.job.type !== 'unbounded' && source.job.type !== 'none' ? source.job.type : undefined);
  const jobWords = finished ? `; the source's migration job ${finished}${job?.errorMessage ? ` (${job.errorMessage})` : ''}` : '';

  if (src === 'other' || dst === 'other') {
    return verdict('unknown', 'a guest is in a transitional or unexpected state; observe again');
  }

  if (isRunning(src) && isRunning(dst)) {
    return verdict('split-brain', 'the guest runs on both hosts; never resolved automatically, an operator must choose');
  }
  if (isRunning(src) && isPostcopy(dst)) {
    return verdict(
      'split-brain',
      'the source runs although the destination holds a post-copy state: both may hold the newest memory; an operator must choose',
    );
  }

  // Post-copy: the newest memory is split between the hosts. Forward only.
  if (isPostcopy(src) || isPostcopy(dst)) {
    if (src === 'absent') {
      if (finished === 'completed' && isRunning(dst)) {
        return source.domain === 'none'
          ? verdict('done', `post-copy completed and the source is gone${jobWords}`)
          : verdict('switched-over-source-not-cleaned', `post-copy completed; the source still holds a definition${jobWords}`);
      }
      if (isPostcopyFailed(dst) || finished === 'failed' || finished === 'cancelled') {
        return verdict('vm-lost', `the source QEMU is gone during post-copy: the guest cannot be completed${jobWords}`);
      }
      return verdict(
        'switchover-in-progress',
        'the source is gone while the destination still reports post-copy: read the completed stats to tell success from loss',
      );
    }
    if (dst === 'absent') {
      return verdict('vm-lost', 'the destination QEMU is gone during post-copy: the source alone has stale memory');
    }
    // Both QEMUs exist; the source is paused (running was handled above).
    if (isPostcopyFailed(src) || isPostcopyFailed(dst)) {
      return verdict('postcopy-broken', 'post-copy failed with both QEMUs alive; resume it with POSTCOPY_RESUME, never destroy either side');
    }
    if (isRunning(dst) && !isPostcopy(dst)) {
      // The destination left post-copy (finished); only the source's teardown remains.
      return sourceActive
        ? verdict('switchover-in-progress', 'post-copy finished on the destination while the source job is still active')
        : verdict('switched-over-source-not-cleaned', `post-copy finished; the source still holds the paused guest${jobWords}`);
    }
    return verdict('postcopy-running', 'post-copy is running: watch it, never abort it');
  }

  // No post-copy anywhere from here on.
  if (isRunning(dst)) {
    if (sourceActive && isPaused(src)) {
      return verdict('switchover-in-progress', 'the guest already runs on the destination while the source job is finishing');
    }
    if (src === 'absent' && source.domain === 'none') {
      return verdict('done', `the guest runs on the destination only${jobWords}`);
    }
    return verdict(
      'switched-over-source-not-cleaned',
      `the guest runs on the destination; the source still holds a ${src === 'absent' ? 'definition' : 'paused guest'}${jobWords}`,
    );
  }

  if (isRunning(src)) {
    if (dst === 'absent') {
      if (sourceActive && destination !== null) {
        return verdict('precopy-in-progress', 'the source job is active and the destination guest is not created yet');
      }
      return verdict('not-started-or-rolled-back', `the guest runs on the source only${jobWords}`);
    }
    // Destination paused: the incoming guest of a pre-copy, unless the source job is over.
    if (finished === 'failed' || finished === 'cancelled' || source.job?.type === 'none') {
      return verdict(
        'not-started-or-rolled-back',
        `the source runs and no migration job is active: the paused destination guest is a leftover${jobWords}`,
      );
    }
    return verdict('precopy-in-progress', 'pre-copy is running: the source runs, the destination waits paused');
  }

  if (isPaused(src)) {
    if (dst === 'absent') {
      return verdict(
        'not-started-or-rolled-back',
        `the guest is paused on the source and nothing runs on the destination; roll back (resume it on the source if ferry paused it)${jobWords}`,
      );
    }
    if (sourceActive && !finished) {
      // A guest that was paused before the migration moves paused: this is its pre-copy.
      const reason = source.domain !== 'none' ? normalizedReason(source.domain.reason) : '';
      if (reason !== 'migration') {
        return verdict('precopy-in-progress', 'the paused guest is being copied: both sides paused, the source job is active');
      }
    }
    return verdict('switchover-in-progress', `both sides are paused: the switch-over is in progress or failed${jobWords}`);
  }

  // The source has no QEMU.
  if (dst === 'absent') {
    return verdict('vm-lost', `no QEMU runs the guest on either host${jobWords}`);
  }
  // Destination paused, source gone: a paused guest's completed migration, or a loss.
  if (finished === 'completed') {
    return source.domain === 'none'
      ? verdict('done', `the guest was migrated paused${jobWords}`)
      : verdict('switched-over-source-not-cleaned', `the guest was migrated paused; the source still holds a definition${jobWords}`);
  }
  if (finished === 'failed' || finished === 'cancelled') {
    return verdict('vm-lost', `the source is gone and the destination guest never completed${jobWords}`);
  }
  return verdict(
    'switchover-in-progress',
    'the source is gone and the destination is paused: read the completed stats to tell a migrated paused guest from a loss',
  );
}
