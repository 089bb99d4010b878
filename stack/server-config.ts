/**
 * The Temporal server's configuration for the stack, as text: persistence and visibility on the
 * stack's PostgreSQL (postgres12 plugin), every service on loopback at STACK_PORTS, TLS on the
 * frontend and between the server's own services, client certificates required on both (so a
 * plain-text or certificate-less connection is refused). Pure: the caller writes it.
 */
import path from 'node:path';
import { repoRoot } from '../lab/paths';
import { STACK_DATABASES, STACK_DB_USER, STACK_PORTS } from './versions';
import type { StackTls } from './certs';

export interface ServerConfigInput {
  dbPassword: string;
  tls: StackTls;
  dynamicConfigFile: string;
  /** History shards: fixed for the life of a cluster (4, as the official dev configs). */
  numHistoryShards?: number;
}

/** The settings docker-compose.yml must repeat (test/unit/stack/compose.test.ts compares them). */
export const SERVER_SETTINGS = {
  sqlPlugin: 'postgres12',
  numHistoryShards: 4,
  requireClientAuth: true,
} as const;

const q = (s: string) => JSON.stringify(s); // a YAML double-quoted scalar is a JSON string

export function serverConfigYaml(c: ServerConfigInput): string {
  const store = (database: string, maxConns: number) => [
    `      sql:`,
    `        pluginName: ${q(SERVER_SETTINGS.sqlPlugin)}`,
    `        databaseName: ${q(database)}`,
    `        connectAddr: ${q(`127.0.0.1:${STACK_PORTS.postgres}`)}`,
    `        connectProtocol: "tcp"`,
    `        user: ${q(STACK_DB_USER)}`,
    `        password: ${q(c.dbPassword)}`,
    `        maxConns: ${maxConns}`,
    `        maxIdleConns: ${maxConns}`,
    `        maxConnLifetime: "1h"`,
  ];
  const tlsServer = (indent: string) => [
    `${indent}server:`,
    `${indent}  certFile: ${q(c.tls.serverCert)}`,
    `${indent}  keyFile: ${q(c.tls.serverKey)}`,
    `${indent}  requireClientAuth: ${SERVER_SETTINGS.requireClientAuth}`,
    `${indent}  clientCaFiles: [${q(c.tls.caCert)}]`,
  ];
  const tlsClient = (indent: string) => [
    `${indent}client:`,
    `${indent}  serverName: "localhost"`,
    `${indent}  rootCaFiles: [${q(c.tls.caCert)}]`,
  ];
  const service = (name: string, grpc: number, membership: number, http?: number) => [
    `  ${name}:`,
    `    rpc:`,
    `      grpcPort: ${grpc}`,
    `      membershipPort: ${membership}`,
    `      bindOnIP: "127.0.0.1"`,
    ...(http !== undefined ? [`      httpPort: ${http}`] : []),
  ];
  const p = STACK_PORTS;
  return [
    '# Written by stack/server-config.ts at every `ferry stack up`; edits are overwritten.',
    'log:',
    '  stdout: true',
    '  level: "warn"',
    '  format: "json"',
    'persistence:',
    `  numHistoryShards: ${c.numHistoryShards ?? SERVER_SETTINGS.numHistoryShards}`,
    '  defaultStore: postgres-default',
    '  visibilityStore: postgres-visibility',
    '  datastores:',
    '    postgres-default:',
    ...store(STACK_DATABASES.persistence, 20),
    '    postgres-visibility:',
    ...store(STACK_DATABASES.visibility, 10),
    'global:',
    '  membership:',
    '    maxJoinDuration: 30s',
    '    broadcastAddress: "127.0.0.1"',
    '  tls:',
    '    internode:',
    ...tlsServer('      '),
    ...tlsClient('      '),
    '    frontend:',
    ...tlsServer('      '),
    ...tlsClient('      '),
    'services:',
    ...service('frontend', p.frontend, p.frontendMembership, p.frontendHttp),
    ...service('history', p.history, p.historyMembership),
    ...service('matching', p.matching, p.matchingMembership),
    ...service('worker', p.worker, p.workerMembership),
    'clusterMetadata:',
    '  enableGlobalNamespace: false',
    '  failoverVersionIncrement: 10',
    '  masterClusterName: "active"',
    '  currentClusterName: "active"',
    '  clusterInformation:',
    '    active:',
    '      enabled: true',
    '      initialFailoverVersion: 1',
    '      rpcName: "frontend"',
    `      rpcAddress: "127.0.0.1:${p.frontend}"`,
    `      httpAddress: "127.0.0.1:${p.frontendHttp}"`,
    'dcRedirectionPolicy:',
    '  policy: "noop"',
    'dynamicConfigClient:',
    `  filepath: ${q(c.dynamicConfigFile)}`,
    '  pollInterval: "60s"',
    '',
  ].join('\n');
}

/** The dynamic config file both the stack and docker-compose.yml use (checked in next to this file). */
export const DYNAMIC_CONFIG_FILE = path.join(repoRoot, 'stack', 'dynamicconfig.yaml');
