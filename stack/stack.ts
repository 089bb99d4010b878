/**
 * The production shape on one machine, without Docker: the official Temporal server (built from
 * its Go module) on the stack's own PostgreSQL, mTLS with a private CA, ferry's search attributes
 * registered by `ferry setup`, Placement, and two ferry workers. Every process is started here,
 * recorded by PID under the stack's dir, and stopped by that PID only.
 *
 *   ferry stack up | status | down      (client/commands/stack.ts)
 */
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../lab/paths';
import { portIsFree } from '../lab/ports';
import { isAlive, run, sleep } from '../lab/proc';
import { ensureTls, tlsFiles, type StackTls } from './certs';
import { clientConfigToml, profileEnvironment, STACK_PROFILE, withoutTemporalSettings } from './client-config';
import { stackFiles } from './paths';
import { ensurePostgresInstalled, postmasterPid, startPostgres, stopPostgres, type PostgresSecrets } from './postgres';
import { placementPid, STACK_PLACEMENT_URL, startStackPlacement, stopStackPlacement } from './placement';
import { applySchemas } from './schema';
import { ensureTemporalServer } from './server-build';
import { DYNAMIC_CONFIG_FILE, serverConfigYaml } from './server-config';
import { ensureNamespace, serverPid, STACK_ADDRESS, startServer, stopServer } from './temporal-server';
import { startWorker, stopWorker, workerPid, workerSpecs } from './workers';
import { STACK_NAMESPACE, STACK_PLACEMENT_PORT, STACK_PORTS, STACK_TASK_QUEUE, TEMPORAL_SERVER_VERSION } from './versions';

export interface StackUpOptions {
  /** A hosts inventory for the workers (FERRY_HOSTS_FILE's format); default: none with libvirt (see hostsFileWithoutLab). */
  hostsFile?: string;
  /** The Placement the workers use; default: the stack's own (an inventory of real hosts comes with its Placement, e.g. the lab's). */
  placementUrl?: string;
}

export interface StackStatus {
  dir: string;
  version: string;
  temporal: { address: string; namespace: string; pid: number | null; configFile: string; log: string };
  postgres: { address: string; pid: number | null };
  placement: { url: string; pid: number | null };
  workers: Array<{ name: string; configuredBy: string; pid: number | null; log: string }>;
  /** How to point ferry or temporal at the stack. */
  clientConfig: { file: string; profile: string };
  taskQueue: string;
  tls: StackTls;
}

function loadSecrets(): PostgresSecrets {
  const f = stackFiles();
  try {
    return JSON.parse(fs.readFileSync(f.secrets, 'utf8')) as PostgresSecrets;
  } catch {
    const s = { superuserPassword: randomBytes(18).toString('base64url'), temporalPassword: randomBytes(18).toString('base64url') };
    fs.mkdirSync(f.dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(f.secrets, JSON.stringify(s, null, 2) + '\n', { mode: 0o600 });
    return s;
  }
}

/**
 * The workers' inventory when none is given: the stack alone has no libvirt host, so its one entry
 * names a socket that does not exist (locateVm reports it unreachable). The lab's hosts come with
 * --hosts-file once the lab runs beside the stack.
 */
function hostsFileWithoutLab(): string {
  const f = stackFiles();
  const inventory = {
    hosts: [
      {
        name: 'no-libvirt',
        uri: `qemu+unix:///system?socket=${path.join(f.dir, 'no-libvirt', 'libvirt-sock')}`,
        peerUri: 'qemu+tcp://no-libvirt/system',
        rp: randomUUID(),
      },
    ],
  };
  return JSON.stringify(inventory, null, 2) + '\n';
}

/** Brings up what is not running (idempotent); say() reports each step. */
export async function stackUp(say: (line: string) => void, opts: StackUpOptions = {}): Promise<StackStatus> {
  const f = stackFiles();
  fs.mkdirSync(f.dir, { recursive: true, mode: 0o700 });
  for (const d of [f.temporalDir, f.workersDir, f.placementDir]) fs.mkdirSync(d, { recursive: true });

  const build = await ensureTemporalServer(say);
  await ensurePostgresInstalled(say);
  const secrets = loadSecrets();
  const tls = await ensureTls(f.tlsDir);

  say(`PostgreSQL on 127.0.0.1:${STACK_PORTS.postgres}`);
  await startPostgres(f.pgDir, secrets);
  await applySchemas(build, secrets, say);

  fs.writeFileSync(f.serverConfig, serverConfigYaml({ dbPassword: secrets.temporalPassword, tls, dynamicConfigFile: DYNAMIC_CONFIG_FILE }), { mode: 0o600 });
  say(`Temporal server ${TEMPORAL_SERVER_VERSION} on ${STACK_ADDRESS} (mTLS)`);
  await startServer(build.server, tls);
  if ((await ensureNamespace(tls)) === 'created') say(`namespace '${STACK_NAMESPACE}' registered`);

  fs.writeFileSync(f.clientConfig, clientConfigToml(tls));
  say(`search attributes: ferry setup (profile '${STACK_PROFILE}' of ${f.clientConfig})`);
  await ferrySetup(say);

  say(`Placement on ${STACK_PLACEMENT_URL}`);
  await startStackPlacement(f.placementDir);

  if (opts.hostsFile) fs.copyFileSync(opts.hostsFile, f.hostsFile);
  else if (!fs.existsSync(f.hostsFile)) fs.writeFileSync(f.hostsFile, hostsFileWithoutLab());
  for (const spec of workerSpecs()) {
    const { pid, reused } = startWorker(spec, tls, opts.placementUrl ?? STACK_PLACEMENT_URL);
    say(`${spec.name} (${spec.configuredBy}) pid ${pid}${reused ? ', already running' : ''}`);
  }
  return stackStatus();
}

/** `ferry setup` as operators run it, on the stack's profile: registers ferry's search attributes. */
async function ferrySetup(say: (line: string) => void): Promise<void> {
  const env = { ...withoutTemporalSettings(process.env), ...profileEnvironment(stackFiles().clientConfig) };
  // A namespace registered a moment ago may not be in every service's cache yet: a refusal then is
  // retried for a while, and the last one is reported if it persists.
  const deadline = Date.now() + 60_000;
  for (let attempt = 1; ; attempt++) {
    try {
      await run(process.execPath, [path.join(repoRoot, 'bin', 'ferry'), 'setup', '--json'], { env, cwd: repoRoot, timeoutMs: 120_000 });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      say(`ferry setup, attempt ${attempt}: ${(err as Error).message.replace(/\s+/g, ' ').slice(0, 600)}; again in 2 s`);
      await sleep(2_000);
    }
  }
}

/** Stops everything the stack started, by PID: workers first, then Placement, Temporal, PostgreSQL. */
export async function stackDown(say: (line: string) => void): Promise<void> {
  const f = stackFiles();
  for (const spec of workerSpecs()) {
    await stopWorker(spec);
    say(`${spec.name} stopped`);
  }
  await stopStackPlacement(f.placementDir);
  say('Placement stopped');
  await stopServer();
  say('Temporal server stopped');
  await stopPostgres(f.pgDir);
  say('PostgreSQL stopped');
}

export function stackStatus(): StackStatus {
  const f = stackFiles();
  return {
    dir: f.dir,
    version: TEMPORAL_SERVER_VERSION,
    temporal: { address: STACK_ADDRESS, namespace: STACK_NAMESPACE, pid: serverPid() ?? null, configFile: f.serverConfig, log: f.serverLog },
    postgres: { address: `127.0.0.1:${STACK_PORTS.postgres}`, pid: postmasterPid(f.pgDir) ?? null },
    placement: { url: STACK_PLACEMENT_URL, pid: placementPid(f.placementDir) ?? null },
    workers: workerSpecs().map((s) => ({ name: s.name, configuredBy: s.configuredBy, pid: workerPid(s) ?? null, log: s.logFile })),
    clientConfig: { file: f.clientConfig, profile: STACK_PROFILE },
    taskQueue: STACK_TASK_QUEUE,
    tls: tlsFiles(f.tlsDir),
  };
}

/** What still runs or listens of the stack (empty when it is down): for `ferry stack down`'s check and the tests. */
export async function stackLeftovers(pids: number[]): Promise<string[]> {
  const left: string[] = [];
  for (const pid of pids) if (isAlive(pid)) left.push(`pid ${pid} still runs`);
  const ports: Array<[string, number]> = [...Object.entries(STACK_PORTS), ['placement', STACK_PLACEMENT_PORT]];
  for (const [name, port] of ports) if (!(await portIsFree(port))) left.push(`port ${port} (${name}) still taken`);
  return left;
}
