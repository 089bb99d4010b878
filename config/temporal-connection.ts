/**
 * Connection options for Temporal (the CLI's Connection and the worker's NativeConnection take the
 * same ones) from the settings of temporal-env.ts: the SDK's own conversion (envconfig's
 * toClientOptions), except that a TLS file that cannot be read says which setting named it.
 */
import { loadConfigData, type ConfigDataSource } from '@temporalio/envconfig';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import { TemporalConfigError, type TemporalSettings } from './temporal-env';

export interface TemporalConnectionOptions {
  address: string;
  /** false: TLS disabled explicitly; true: TLS with the system's roots (an API key alone turns it on, as in the SDK). */
  tls?: TLSConfig | boolean;
  apiKey?: string;
  metadata?: Record<string, string>;
}

export function temporalConnectionOptions(s: TemporalSettings, address: string): TemporalConnectionOptions {
  const tls = tlsConfig(s) ?? (s.apiKey !== undefined ? true : undefined);
  return {
    address,
    ...(tls !== undefined ? { tls } : {}),
    ...(s.apiKey !== undefined ? { apiKey: s.apiKey } : {}),
    ...(s.grpcMeta !== undefined ? { metadata: s.grpcMeta } : {}),
  };
}

function tlsConfig(s: TemporalSettings): TLSConfig | boolean | undefined {
  const t = s.tls;
  if (t === undefined) return undefined;
  if (t.disabled === true) return false;
  const read = (source: ConfigDataSource | undefined, what: string, settings: string) => {
    try {
      return loadConfigData(source);
    } catch (err) {
      const file = source && 'path' in source ? source.path : '(inline data)';
      throw new TemporalConfigError([`the TLS ${what} ${file} (${settings}) cannot be read: ${(err as Error).message}`]);
    }
  };
  const ca = read(t.serverCACert, 'server CA certificate', 'TEMPORAL_TLS_SERVER_CA_CERT_PATH or tls.server_ca_cert_path');
  const crt = read(t.clientCert, 'client certificate', 'TEMPORAL_TLS_CLIENT_CERT_PATH or tls.client_cert_path');
  const key = read(t.clientKey, 'client key', 'TEMPORAL_TLS_CLIENT_KEY_PATH or tls.client_key_path');
  return {
    ...(t.serverName !== undefined ? { serverNameOverride: t.serverName } : {}),
    ...(ca ? { serverRootCACertificate: Buffer.from(ca) } : {}),
    ...(crt && key ? { clientCertPair: { crt: Buffer.from(crt), key: Buffer.from(key) } } : {}),
  };
}
