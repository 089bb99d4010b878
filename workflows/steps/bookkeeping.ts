import { ActivityFailure, ApplicationFailure, sleep } from '@temporalio/workflow';
import { PLACEMENT_WAIT_FAILURES } from '../../model/activity-contract';
import type { Migration } from '../migration-state';

/** Back-off while Placement does not answer: 5 s, doubling, at most 5 minutes; no overall limit. */
const FIRST_WAIT_MS = 5_000;
const LONGEST_WAIT_MS = 5 * 60_000;

/**
 * Bookkeeping in Placement after the guest's fate is decided (drop the migration consumer after a
 * finish): it never changes the migration's outcome. While Placement does not answer (or keeps
 * conflicting) the progress says "waiting for Placement" and the call is retried with back-off,
 * without limit; a failure no retry fixes is recorded as a decision, with Placement's words, for
 * the operator, and the migration goes on.
 */
export async function placementBookkeeping<T>(m: Migration, what: string, call: () => Promise<T>): Promise<T | undefined> {
  let waitMs = FIRST_WAIT_MS;
  let waiting = false;
  for (;;) {
    try {
      const result = await call();
      if (waiting) m.rec.decide(Date.now(), 'placement-back', `${what}: Placement answers again`);
      m.rec.progress = { ...m.rec.progress, verdict: null };
      return result;
    } catch (err) {
      const cause = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : undefined;
      if (cause?.type && (PLACEMENT_WAIT_FAILURES as readonly string[]).includes(cause.type)) {
        if (!waiting) m.rec.decide(Date.now(), 'waiting-for-placement', `${what}: ${cause.message}; retrying with back-off (the migration's outcome does not depend on it)`);
        waiting = true;
        m.rec.progress = { ...m.rec.progress, verdict: 'waiting for Placement' };
        await sleep(waitMs);
        waitMs = Math.min(waitMs * 2, LONGEST_WAIT_MS);
        continue;
      }
      const message = cause?.message ?? (err instanceof Error ? err.message : String(err));
      m.rec.decide(Date.now(), 'bookkeeping-failed', `${what} failed: ${message}; the migration's outcome stands, fix the allocation by hand`);
      m.rec.progress = { ...m.rec.progress, verdict: null };
      return undefined;
    }
  }
}
