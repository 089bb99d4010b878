import type { ConnectionOptions } from '@temporalio/client';
import { temporalConnectionOptions } from '../config/temporal-connection';
import { TemporalConfigError } from '../config/temporal-env';
import type { ClientConfig } from './config';
import { UnavailableError } from './errors';

/** How long the CLI waits for Temporal to answer before it says it cannot reach it. */
export const CONNECT_TIMEOUT_MS = 5_000;

/** Connection options from the client configuration; a TLS file that cannot be read names its setting. */
export function connectionOptions(c: ClientConfig): ConnectionOptions {
  try {
    return { ...temporalConnectionOptions(c.temporal, c.address), connectTimeout: CONNECT_TIMEOUT_MS };
  } catch (err) {
    if (err instanceof TemporalConfigError) throw new UnavailableError(err.message, { problems: err.problems });
    throw err;
  }
}
