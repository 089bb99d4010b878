/**
 * docker-compose.yml describes the stack `ferry stack up` runs (stack/): the same server version,
 * PostgreSQL major, ports, database names, mTLS settings, task queue, Placement port, and the same
 * steps (schema tool, namespace, `ferry setup`, two workers). Compared with the stack's constants,
 * so changing one without the other fails here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { clientEnvironment } from '../../../stack/client-config';
import { tlsFiles } from '../../../stack/certs';
import { SERVER_SETTINGS } from '../../../stack/server-config';
import {
  POSTGRES_MAJOR, STACK_DATABASES, STACK_DB_USER, STACK_NAMESPACE, STACK_PLACEMENT_PORT, STACK_PORTS, STACK_TASK_QUEUE,
  STACK_TLS_SERVER_NAME, STACK_WORKERS, TEMPORAL_SERVER_VERSION,
} from '../../../stack/versions';

interface Service {
  image?: string;
  command?: string[] | string;
  entrypoint?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}

const root = path.resolve(__dirname, '../../..');
const compose = parse(fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const service = (name: string): Service => {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service '${name}'`);
  return s;
};
const commandText = (s: Service) => [...(s.entrypoint ?? []), ...(Array.isArray(s.command) ? s.command : [s.command ?? ''])].join(' ');

describe('docker-compose.yml names what the stack runs', () => {
  it('uses the official server and admin-tools images at the stack\'s version, never the deprecated auto-setup', () => {
    const images = Object.values(services).map((s) => s.image ?? '');
    expect(images.filter((i) => i.includes('auto-setup'))).toEqual([]);
    expect(service('temporal').image).toBe(`temporalio/server:${TEMPORAL_SERVER_VERSION}`);
    const adminTools = images.filter((i) => i.startsWith('temporalio/admin-tools:'));
    expect(adminTools.length).toBeGreaterThan(0);
    expect(new Set(adminTools)).toEqual(new Set([`temporalio/admin-tools:${TEMPORAL_SERVER_VERSION}`]));
  });

  it('runs PostgreSQL of the stack\'s major version on the stack\'s port, with a health check', () => {
    const pg = service('postgresql');
    expect(pg.image).toBe(`postgres:${POSTGRES_MAJOR}`);
    expect(pg.command).toEqual(['postgres', '-p', String(STACK_PORTS.postgres)]);
    expect(pg.environment?.POSTGRES_USER).toBe(STACK_DB_USER);
    expect(pg.healthcheck?.test.join(' ')).toContain(String(STACK_PORTS.postgres));
  });

  it('configures the server as the stack does: SQL plugin, databases, shards, every port, mTLS required', () => {
    const env = service('temporal').environment ?? {};
    expect(env).toMatchObject({
      DB: SERVER_SETTINGS.sqlPlugin,
      DB_PORT: String(STACK_PORTS.postgres),
      DBNAME: STACK_DATABASES.persistence,
      VISIBILITY_DBNAME: STACK_DATABASES.visibility,
      POSTGRES_USER: STACK_DB_USER,
      NUM_HISTORY_SHARDS: String(SERVER_SETTINGS.numHistoryShards),
      FRONTEND_GRPC_PORT: String(STACK_PORTS.frontend),
      FRONTEND_HTTP_PORT: String(STACK_PORTS.frontendHttp),
      HISTORY_GRPC_PORT: String(STACK_PORTS.history),
      MATCHING_GRPC_PORT: String(STACK_PORTS.matching),
      WORKER_GRPC_PORT: String(STACK_PORTS.worker),
      FRONTEND_MEMBERSHIP_PORT: String(STACK_PORTS.frontendMembership),
      HISTORY_MEMBERSHIP_PORT: String(STACK_PORTS.historyMembership),
      MATCHING_MEMBERSHIP_PORT: String(STACK_PORTS.matchingMembership),
      WORKER_MEMBERSHIP_PORT: String(STACK_PORTS.workerMembership),
      TEMPORAL_TLS_REQUIRE_CLIENT_AUTH: String(SERVER_SETTINGS.requireClientAuth),
      TEMPORAL_TLS_INTERNODE_SERVER_NAME: STACK_TLS_SERVER_NAME,
      TEMPORAL_TLS_FRONTEND_SERVER_NAME: STACK_TLS_SERVER_NAME,
    });
    for (const v of ['TEMPORAL_TLS_SERVER_CERT', 'TEMPORAL_TLS_SERVER_KEY', 'TEMPORAL_TLS_SERVER_CA_CERT', 'TEMPORAL_TLS_FRONTEND_CERT', 'TEMPORAL_TLS_FRONTEND_KEY', 'TEMPORAL_TLS_CLIENT1_CA_CERT']) {
      expect(env[v], v).toMatch(/^\/certs\/.+\.(pem|key)$/);
    }
    expect(service('temporal').ports).toEqual([`127.0.0.1:${STACK_PORTS.frontend}:${STACK_PORTS.frontend}`]);
    expect(service('temporal').healthcheck?.test.join(' ')).toContain(String(STACK_PORTS.frontend));
    // The dynamic config is the stack's own file.
    expect(service('temporal').volumes).toContain('./stack/dynamicconfig.yaml:/etc/temporal/ferry/dynamicconfig.yaml:ro');
    expect(env.DYNAMIC_CONFIG_FILE_PATH).toBe('/etc/temporal/ferry/dynamicconfig.yaml');
  });

  it('applies the schemas with the official schema tool from the same version\'s schema dirs', () => {
    const text = commandText(service('temporal-schema'));
    expect(text).toContain(`--plugin ${SERVER_SETTINGS.sqlPlugin}`);
    expect(text).toContain(`--port ${STACK_PORTS.postgres}`);
    for (const [db, dir] of [[STACK_DATABASES.persistence, 'temporal'], [STACK_DATABASES.visibility, 'visibility']] as const) {
      expect(text).toContain(`--database ${db} update-schema -d /etc/temporal/schema/postgresql/v12/${dir}/versioned`);
    }
  });

  it('gives every Temporal client the stack\'s TEMPORAL_* settings, the file paths under /certs', () => {
    const stackEnv = clientEnvironment(tlsFiles('/certs'));
    const expected: Record<string, string> = { ...stackEnv, TEMPORAL_ADDRESS: `temporal:${STACK_PORTS.frontend}` };
    for (const name of ['temporal-namespace', 'ferry-setup']) expect(service(name).environment).toEqual(expected);
    expect(expected.TEMPORAL_NAMESPACE).toBe(STACK_NAMESPACE);
    expect(commandText(service('temporal-namespace'))).toContain(`namespace create -n ${STACK_NAMESPACE}`);
  });

  it('registers ferry\'s search attributes with `ferry setup`, then runs the stack\'s number of workers and Placement', () => {
    expect(service('ferry-setup').command).toEqual(['node', 'bin/ferry', 'setup']);
    const workers = Object.entries(services).filter(([, s]) => Array.isArray(s.command) && s.command.join(' ') === 'node bin/ferry worker');
    expect(workers).toHaveLength(STACK_WORKERS);
    const stackEnv = clientEnvironment(tlsFiles('/certs'));
    for (const [name, w] of workers) {
      expect(w.environment, name).toMatchObject({
        ...stackEnv,
        TEMPORAL_ADDRESS: `temporal:${STACK_PORTS.frontend}`,
        FERRY_TASK_QUEUE: STACK_TASK_QUEUE,
        FERRY_PLACEMENT_URL: `http://placement:${STACK_PLACEMENT_PORT}`,
      });
      expect(w.depends_on?.['ferry-setup']?.condition, name).toBe('service_completed_successfully');
      expect(w.depends_on?.placement?.condition, name).toBe('service_healthy');
    }
    const placement = service('placement');
    expect(commandText(placement)).toContain(`--port ${STACK_PLACEMENT_PORT}`);
    expect(placement.healthcheck?.test.join(' ')).toContain(String(STACK_PLACEMENT_PORT));
  });
});
