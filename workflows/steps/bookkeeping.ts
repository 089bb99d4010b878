import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { Migration } from '../migration-state';
import { waitForPlacement } from './placement-wait';

/**
 * Bookkeeping in Placement after the guest's fate is decided (drop the migration consumer after a
 * finish): it never changes the migration's outcome. While Placement does not answer (or keeps
 * conflicting) the progress says "waiting for Placement" and the call is retried with back-off,
 * without limit (placement-wait.ts); a failure no retry fixes is recorded as a decision, with
 * Placement's words, for the operator, and the migration goes on.
 */
export async function placementBookkeeping<T>(m: Migration, what: string, call: () => Promise<T>): Promise<T | undefined> {
  try {
    const result = await waitForPlacement(m, what, call, { meaning: "the migration's outcome does not depend on it" });
    m.rec.progress = { ...m.rec.progress, verdict: null };
    return result;
  } catch (err) {
    const cause = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : undefined;
    const message = cause?.message ?? (err instanceof Error ? err.message : String(err));
    m.rec.decide(Date.now(), 'bookkeeping-failed', `${what} failed: ${message}; the migration's outcome stands, fix the allocation by hand`);
    m.rec.progress = { ...m.rec.progress, verdict: null };
    return undefined;
  }
}
