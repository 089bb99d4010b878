import { EXIT, type ExitCode } from './exit-codes';

/**
 * Errors the typed client and the CLI raise on purpose: each carries the exit code the CLI ends
 * with, and facts for the JSON error object. Their messages say what was wrong and what to do.
 */
export class FerryError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A wrong command line or request: found before anything was started (most before anything was contacted). */
export class UsageError extends FerryError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(EXIT.usage, message, details);
  }
}

/** ferry said no: unknown VM or host, a migration already running, a validator's or pre-check's refusal. */
export class RefusedError extends FerryError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(EXIT.refused, message, details);
  }
}

/** Temporal not reachable, a bad configuration, no worker on the task queue. */
export class UnavailableError extends FerryError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(EXIT.unavailable, message, details);
  }
}
