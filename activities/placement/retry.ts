/** Re-read-and-re-apply loop for Placement's optimistic concurrency (generations). */
import { PlacementError, PlacementStateError } from './errors';

export interface RetryOptions {
  /** Total attempts, the first included. Default 5. */
  attempts?: number;
  /** Base delay between attempts (doubled each time, with jitter). Default 50 ms. */
  backoffMs?: number;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs attempt() (which must re-read what it writes) until it does not fail with 409
 * placement.concurrent_update. Any other error is thrown at once; when every attempt conflicted,
 * a PlacementStateError names the operation and carries the last conflict as its cause.
 */
export async function retryOnConcurrentUpdate<T>(what: string, opts: RetryOptions, attempt: () => Promise<T>): Promise<T> {
  const attempts = Math.max(1, opts.attempts ?? 5);
  const backoffMs = opts.backoffMs ?? 50;
  const sleep = opts.sleep ?? defaultSleep;
  let last: PlacementError | undefined;
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await sleep(Math.round(backoffMs * 2 ** (i - 1) * (0.5 + Math.random())));
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof PlacementError && err.isConcurrentUpdate)) throw err;
      last = err;
    }
  }
  throw new PlacementStateError(
    'ferry.placement.conflict_retries_exhausted',
    `${what}: still conflicting after ${attempts} attempts (another writer keeps changing the same consumer or provider): ${last?.detail ?? ''}`,
    { cause: last },
  );
}
