/**
 * The files `ferry stack up` writes, read back by what reads them: the server's YAML (mTLS
 * required on the frontend and between services, PostgreSQL for persistence and visibility, the
 * stack's ports) and the envconfig profile (read by Temporal's envconfig as ferry reads it).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTemporalSettings } from '../../../config/temporal-env';
import { tlsFiles } from '../../../stack/certs';
import { clientConfigToml, clientEnvironment, STACK_PROFILE } from '../../../stack/client-config';
import { SERVER_SETTINGS, serverConfigYaml } from '../../../stack/server-config';
import { STACK_DATABASES, STACK_DB_USER, STACK_NAMESPACE, STACK_PORTS, STACK_TLS_SERVER_NAME } from '../../../stack/versions';

const tls = tlsFiles('/srv/stack "tls"'); // a quote in a path must survive both formats
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-stack-config-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("the Temporal server's configuration", () => {
  const cfg = parse(serverConfigYaml({ dbPassword: 'p"w:#1', tls, dynamicConfigFile: '/x/dc.yaml' })) as {
    persistence: { defaultStore: string; visibilityStore: string; numHistoryShards: number; datastores: Record<string, { sql: Record<string, unknown> }> };
    global: { tls: Record<'internode' | 'frontend', { server: Record<string, unknown>; client: Record<string, unknown> }> };
    services: Record<string, { rpc: Record<string, unknown> }>;
    dynamicConfigClient: { filepath: string };
  };

  it('keeps persistence and visibility on the stack\'s PostgreSQL, password intact', () => {
    const { persistence: p } = cfg;
    expect(p.numHistoryShards).toBe(SERVER_SETTINGS.numHistoryShards);
    const stores = [p.datastores[p.defaultStore]!.sql, p.datastores[p.visibilityStore]!.sql];
    expect(stores.map((s) => s.databaseName)).toEqual([STACK_DATABASES.persistence, STACK_DATABASES.visibility]);
    for (const s of stores) {
      expect(s).toMatchObject({ pluginName: SERVER_SETTINGS.sqlPlugin, connectAddr: `127.0.0.1:${STACK_PORTS.postgres}`, user: STACK_DB_USER, password: 'p"w:#1' });
    }
  });

  it('requires client certificates from the stack\'s CA on the frontend and between services', () => {
    for (const group of ['frontend', 'internode'] as const) {
      expect(cfg.global.tls[group].server).toEqual({ certFile: tls.serverCert, keyFile: tls.serverKey, requireClientAuth: true, clientCaFiles: [tls.caCert] });
      expect(cfg.global.tls[group].client).toEqual({ serverName: STACK_TLS_SERVER_NAME, rootCaFiles: [tls.caCert] });
    }
  });

  it('binds every service to loopback on the stack\'s ports', () => {
    expect(cfg.services.frontend!.rpc).toEqual({ grpcPort: STACK_PORTS.frontend, membershipPort: STACK_PORTS.frontendMembership, bindOnIP: '127.0.0.1', httpPort: STACK_PORTS.frontendHttp });
    expect(cfg.services.history!.rpc).toMatchObject({ grpcPort: STACK_PORTS.history, membershipPort: STACK_PORTS.historyMembership, bindOnIP: '127.0.0.1' });
    expect(cfg.services.matching!.rpc).toMatchObject({ grpcPort: STACK_PORTS.matching, membershipPort: STACK_PORTS.matchingMembership, bindOnIP: '127.0.0.1' });
    expect(cfg.services.worker!.rpc).toMatchObject({ grpcPort: STACK_PORTS.worker, membershipPort: STACK_PORTS.workerMembership, bindOnIP: '127.0.0.1' });
    expect(cfg.dynamicConfigClient.filepath).toBe('/x/dc.yaml');
  });
});

describe("the stack's envconfig profile and variables", () => {
  it('are read by Temporal\'s envconfig (as ferry and the temporal CLI read them) into the same settings', () => {
    const file = path.join(tmp, 'temporal.toml');
    fs.writeFileSync(file, clientConfigToml(tls));
    const fromProfile = loadTemporalSettings({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: STACK_PROFILE });
    const fromVariables = loadTemporalSettings({ ...clientEnvironment(tls), HOME: tmp }); // no config file there
    for (const s of [fromProfile, fromVariables]) {
      expect(s.address).toBe(`127.0.0.1:${STACK_PORTS.frontend}`);
      expect(s.namespace).toBe(STACK_NAMESPACE);
      expect(s.tls).toMatchObject({
        serverName: STACK_TLS_SERVER_NAME,
        serverCACert: { path: tls.caCert },
        clientCert: { path: tls.clientCert },
        clientKey: { path: tls.clientKey },
      });
    }
    expect(fromProfile.origin.address).toContain(`profile '${STACK_PROFILE}'`);
    expect(fromVariables.origin.address).toBe('from TEMPORAL_ADDRESS');
  });
});
