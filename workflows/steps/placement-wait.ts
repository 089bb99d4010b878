import { ActivityFailure, ApplicationFailure, sleep } from '@temporalio/workflow';
import { PLACEMENT_WAIT_FAILURES } from '../../model/activity-contract';
import type { Migration } from '../migration-state';

/** Back-off while Placement does not answer: 5 s, doubling, at most 5 minutes. */
const FIRST_WAIT_MS = 5_000;
const LONGEST_WAIT_MS = 5 * 60_000;

export interface PlacementWaitOptions {
  /** What the wait means for the migration, for the decision that records it. */
  meaning: string;
  /**
   * Give up once Placement has not answered for this long (ms): the failure then names Placement
   * and its last words. Absent: never give up (compensation and bookkeeping).
   */
  giveUpAfterMs?: number;
  /** The wait began before the first call (an activity already met the outage and said so): wait first. */
  alreadyFailed?: string;
}

/** The Placement failure an activity ended with when it means "waiting for Placement" (PLACEMENT_WAIT_FAILURES). */
export function placementWaitCause(err: unknown): ApplicationFailure | undefined {
  const cause = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : undefined;
  return cause?.type && (PLACEMENT_WAIT_FAILURES as readonly string[]).includes(cause.type) ? cause : undefined;
}

/**
 * Calls `call` (an activity of a few quick attempts) until Placement answers. While it does not
 * (unreachable, or conflicting through every re-read) the progress says so — verdict "waiting for
 * Placement" and `placementWait` with what waits, Placement's last error and since when — and
 * the call is retried with back-off; both are cleared once Placement answers. Any other failure
 * is thrown as it came (the caller decides what it means). The wait itself never changes the
 * migration's outcome; only `giveUpAfterMs` ends it, with a failure that names the cause.
 */
export async function waitForPlacement<T>(m: Migration, what: string, call: () => Promise<T>, opts: PlacementWaitOptions): Promise<T> {
  let waitMs = FIRST_WAIT_MS;
  let sinceMs: number | null = null;
  let verdictBefore: string | null = null;
  const show = (error: string) => {
    if (sinceMs === null) {
      sinceMs = Date.now();
      verdictBefore = m.rec.progress.verdict;
      m.rec.decide(sinceMs, 'waiting-for-placement', `${what}: ${error}; retrying with back-off (${opts.meaning})`);
    }
    m.rec.progress = {
      ...m.rec.progress, verdict: 'waiting for Placement',
      placementWait: { what, error, since: new Date(sinceMs).toISOString() },
    };
  };
  const clear = () => {
    if (sinceMs === null) return;
    m.rec.progress = { ...m.rec.progress, verdict: verdictBefore, placementWait: null };
  };
  if (opts.alreadyFailed !== undefined) {
    show(opts.alreadyFailed);
    await sleep(waitMs);
    waitMs = Math.min(waitMs * 2, LONGEST_WAIT_MS);
  }
  for (;;) {
    try {
      const result = await call();
      if (sinceMs !== null) m.rec.decide(Date.now(), 'placement-back', `${what}: Placement answers again`);
      clear();
      return result;
    } catch (err) {
      const cause = placementWaitCause(err);
      if (!cause) {
        clear();
        throw err;
      }
      show(cause.message);
      const waitedMs = Date.now() - sinceMs!;
      if (opts.giveUpAfterMs !== undefined && waitedMs >= opts.giveUpAfterMs) {
        clear();
        const message = `${what}: Placement did not answer for ${Math.round(waitedMs / 1000)} s (the limit is ${Math.round(opts.giveUpAfterMs / 1000)} s): ${cause.message}`;
        m.rec.decide(Date.now(), 'placement-gave-up', message);
        throw ApplicationFailure.create({ type: cause.type ?? undefined, nonRetryable: true, message, cause: err as Error });
      }
      await sleep(opts.giveUpAfterMs === undefined ? waitMs : Math.min(waitMs, opts.giveUpAfterMs - waitedMs));
      waitMs = Math.min(waitMs * 2, LONGEST_WAIT_MS);
    }
  }
}
