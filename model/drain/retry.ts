/**
 * PURE: what happens to a VM whose move did not complete. A circuit breaker: a bounded number of
 * attempts, each on a destination not tried before, with exponential backoff between them; then
 * the VM is reported failed, never retried again. An operator's abort of the child and a
 * cancelled drain are not retried at all.
 */
import type { DrainRetry } from './schemas';

/** How an attempt ended, as the drain sees its child migration. */
export type AttemptEnd = 'completed' | 'failed' | 'aborted' | 'rolled_back' | 'refused';

export type RetryVerdict =
  | { kind: 'retry'; afterMs: number; exclude: string[] }
  | { kind: 'give-up'; status: 'failed' | 'aborted' | 'cancelled'; reason: string };

/** The wait before attempt `next` (2 = the first retry): initial, doubled each time, capped. */
export function backoffMs(retry: DrainRetry, next: number): number {
  const ms = retry.initialBackoffSeconds * 1000 * 2 ** Math.max(0, next - 2);
  return Math.min(ms, retry.maxBackoffSeconds * 1000);
}

export function afterFailedAttempt(
  retry: DrainRetry,
  state: { attempts: number; triedDestinations: readonly string[]; lastEnd: AttemptEnd; lastError: string | null; cancelRequested: boolean },
): RetryVerdict {
  const last = state.lastError ? `: ${state.lastError}` : '';
  // The child was rolled back on request (ferry abort, or the drain's cancel with abortInFlight):
  // a decision, not a failure to retry.
  if (state.lastEnd === 'rolled_back') {
    const by = state.cancelRequested ? 'as the drain was cancelled (abort in flight)' : 'by an operator';
    return { kind: 'give-up', status: 'aborted', reason: `its migration was aborted ${by}${last}` };
  }
  if (state.cancelRequested) return { kind: 'give-up', status: 'cancelled', reason: `the drain was cancelled after attempt ${state.attempts}${last}` };
  if (state.attempts >= retry.maxAttempts) {
    return {
      kind: 'give-up', status: 'failed',
      reason: `${state.attempts} attempt${state.attempts === 1 ? '' : 's'} failed (on ${state.triedDestinations.join(', ')}), the limit is ${retry.maxAttempts}${last}`,
    };
  }
  return { kind: 'retry', afterMs: backoffMs(retry, state.attempts + 1), exclude: [...new Set(state.triedDestinations)] };
}
