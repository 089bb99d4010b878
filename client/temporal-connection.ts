import fs from 'node:fs';
import type { ConnectionOptions } from '@temporalio/client';
import type { ClientConfig } from './config';
import { UnavailableError } from './errors';

/** How long the CLI waits for Temporal to answer before it says it cannot reach it. */
export const CONNECT_TIMEOUT_MS = 5_000;

/** Connection options from the client configuration; a TLS file that cannot be read names its setting. */
export function connectionOptions(c: ClientConfig): ConnectionOptions {
  const read = (file: string, setting: string) => {
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new UnavailableError(`bad configuration: ${setting}=${file} cannot be read: ${(err as Error).message}`, { setting, file });
    }
  };
  const tls = c.tls && {
    ...(c.tls.ca ? { serverRootCACertificate: read(c.tls.ca, 'FERRY_TEMPORAL_TLS_CA') } : {}),
    ...(c.tls.cert && c.tls.key
      ? { clientCertPair: { crt: read(c.tls.cert, 'FERRY_TEMPORAL_TLS_CERT'), key: read(c.tls.key, 'FERRY_TEMPORAL_TLS_KEY') } }
      : {}),
  };
  return { address: c.address, connectTimeout: CONNECT_TIMEOUT_MS, ...(tls ? { tls } : {}) };
}
