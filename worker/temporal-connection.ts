import fs from 'node:fs';
import type { WorkerConfig } from './config';

/** Connection options for Temporal (client or worker) from the configuration. */
export function temporalConnectionOptions(c: Pick<WorkerConfig, 'FERRY_TEMPORAL_ADDRESS' | 'FERRY_TEMPORAL_TLS' | 'FERRY_TEMPORAL_TLS_CA' | 'FERRY_TEMPORAL_TLS_CERT' | 'FERRY_TEMPORAL_TLS_KEY'>) {
  const tls = c.FERRY_TEMPORAL_TLS === '1' || c.FERRY_TEMPORAL_TLS_CERT !== undefined
    ? {
        ...(c.FERRY_TEMPORAL_TLS_CA ? { serverRootCACertificate: fs.readFileSync(c.FERRY_TEMPORAL_TLS_CA) } : {}),
        ...(c.FERRY_TEMPORAL_TLS_CERT && c.FERRY_TEMPORAL_TLS_KEY
          ? { clientCertPair: { crt: fs.readFileSync(c.FERRY_TEMPORAL_TLS_CERT), key: fs.readFileSync(c.FERRY_TEMPORAL_TLS_KEY) } }
          : {}),
      }
    : undefined;
  return { address: c.FERRY_TEMPORAL_ADDRESS, ...(tls ? { tls } : {}) };
}
