/**
 * How workers, `ferry` and `temporal` reach the stack: Temporal's standard configuration, as a
 * profile 'stack' in an envconfig TOML file (TEMPORAL_CONFIG_FILE + TEMPORAL_PROFILE=stack), or
 * the same as TEMPORAL_* variables. Pure: the caller writes the text.
 */
import type { StackTls } from './certs';
import { STACK_NAMESPACE, STACK_PORTS, STACK_TLS_SERVER_NAME } from './versions';

export const STACK_PROFILE = 'stack';

const q = (s: string) => JSON.stringify(s); // a TOML basic string is a JSON string for these values

export function clientConfigToml(tls: StackTls): string {
  return [
    '# Written by `ferry stack up`: the stack\'s Temporal for ferry and the temporal CLI.',
    '#   TEMPORAL_CONFIG_FILE=<this file> TEMPORAL_PROFILE=stack ferry list',
    `[profile.${STACK_PROFILE}]`,
    `address = ${q(`127.0.0.1:${STACK_PORTS.frontend}`)}`,
    `namespace = ${q(STACK_NAMESPACE)}`,
    '',
    `[profile.${STACK_PROFILE}.tls]`,
    `server_name = ${q(STACK_TLS_SERVER_NAME)}`,
    `server_ca_cert_path = ${q(tls.caCert)}`,
    `client_cert_path = ${q(tls.clientCert)}`,
    `client_key_path = ${q(tls.clientKey)}`,
    '',
  ].join('\n');
}

/** The same as TEMPORAL_* variables (what a process manager or a container sets). */
export function clientEnvironment(tls: StackTls): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: `127.0.0.1:${STACK_PORTS.frontend}`,
    TEMPORAL_NAMESPACE: STACK_NAMESPACE,
    TEMPORAL_TLS: 'true',
    TEMPORAL_TLS_SERVER_NAME: STACK_TLS_SERVER_NAME,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: tls.caCert,
    TEMPORAL_TLS_CLIENT_CERT_PATH: tls.clientCert,
    TEMPORAL_TLS_CLIENT_KEY_PATH: tls.clientKey,
  };
}

/** The environment for the profile: the file and the profile name. */
export function profileEnvironment(clientConfigFile: string): Record<string, string> {
  return { TEMPORAL_CONFIG_FILE: clientConfigFile, TEMPORAL_PROFILE: STACK_PROFILE };
}

/** A child's environment without any inherited Temporal setting (they would override the stack's). */
export function withoutTemporalSettings(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('TEMPORAL_')));
}
