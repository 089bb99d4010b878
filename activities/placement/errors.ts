/**
 * Errors of ferry's Placement client. Callers (activities, the workflow's retry policy) decide on
 * `status`/`code`: a 409 `placement.concurrent_update` means "re-read and re-apply"; 4xx other
 * than that are the caller's mistake and must not be retried blindly.
 */

/** Placement's error code for a stale resource provider or consumer generation. */
export const CONCURRENT_UPDATE = 'placement.concurrent_update';

/** An HTTP error answered by Placement, built from its JSON error body. */
export class PlacementError extends Error {
  override readonly name = 'PlacementError';
  constructor(
    readonly status: number,
    /** Placement's machine-readable code, e.g. 'placement.concurrent_update'; 'placement.undefined_code' when absent. */
    readonly code: string,
    readonly title: string,
    readonly detail: string,
    readonly method: string,
    readonly path: string,
    readonly requestId?: string,
  ) {
    super(`Placement ${method} ${path} failed: ${status} ${title} (${code}): ${detail}`);
  }

  get isConcurrentUpdate(): boolean {
    return this.status === 409 && this.code === CONCURRENT_UPDATE;
  }

  get isNotFound(): boolean {
    return this.status === 404;
  }
}

/** Placement could not be reached, or did not answer in time. Safe to retry. */
export class PlacementUnavailableError extends Error {
  override readonly name = 'PlacementUnavailableError';
  constructor(
    readonly method: string,
    readonly url: string,
    override readonly cause: unknown,
  ) {
    super(
      `Placement ${method} ${url} unreachable: ${cause instanceof Error ? cause.message : String(cause)}` +
        ' (is Placement running? the lab starts it with lab/placement.ts startPlacement())',
    );
  }
}

/** Placement answered something this client does not understand (schema mismatch, non-JSON). */
export class PlacementProtocolError extends Error {
  override readonly name = 'PlacementProtocolError';
  constructor(
    readonly method: string,
    readonly path: string,
    message: string,
  ) {
    super(`Placement ${method} ${path}: unexpected response: ${message}`);
  }
}

/**
 * The allocations are not in a state a saga step can act on (e.g. nothing to move), or a
 * conflict persisted after every re-read. Not retryable as is: someone must look.
 */
export class PlacementStateError extends Error {
  override readonly name = 'PlacementStateError';
  constructor(
    /** ferry's own code, e.g. 'ferry.placement.no_source_allocation'. */
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
