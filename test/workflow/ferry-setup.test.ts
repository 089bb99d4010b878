/**
 * `ferry setup` and the worker's start check against a real Temporal (the pinned dev server, our
 * own on a free port, started with no search attribute): the worker refuses to start and says to
 * run `ferry setup`; `--check` reports the missing ones (exit 69) and adds nothing; setup adds
 * them, a second run finds them (idempotent); then --check passes and the worker gets past it.
 * Each command is the real `ferry` process.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../client/exit-codes';
import { ferrySearchAttributes } from '../../model/search-attributes';
import { startDevServer, type DevServer } from './support/dev-server';
import { ferryMetric } from '../../model/metric-names';
import { find, freeLoopbackPort, scrape, type Series } from './support/prometheus-scrape';

const root = path.resolve(__dirname, '../..');
const ALL = ferrySearchAttributes.map((k) => k.name);

let server: DevServer;
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  server = await startDevServer();
  const hostsFile = path.join(server.dir, 'hosts.json');
  fs.writeFileSync(hostsFile, JSON.stringify({ hosts: [{ name: 'host-a', uri: 'qemu+tcp://host-a/system', peerUri: 'qemu+tcp://host-a/system', rp: '6f1f3c4e-1f0e-4a61-9d9e-0a8f1b2c3d4e' }] }));
  // Only what the test names: no FERRY_*/TEMPORAL_* of the outer environment, no lab (its state dir is empty).
  env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FERRY_') && !k.startsWith('TEMPORAL_') && !k.startsWith('VITEST')));
  Object.assign(env, {
    TEMPORAL_ADDRESS: server.address,
    FERRY_LAB_DIR: path.join(server.dir, 'no-lab'),
    FERRY_HOSTS_FILE: hostsFile,
    FERRY_PLACEMENT_URL: 'http://127.0.0.1:9/placement',
    FERRY_TASK_QUEUE: 'ferry-setup-test',
    // No metrics endpoint: the lab's worker may hold the default port.
    FERRY_METRICS_ADDRESS: 'off',
  });
}, 90_000);
afterAll(async () => {
  await server?.stop();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `ferry args` as a process; `until`: stop it (SIGTERM) once its output matches (a worker that started). */
function ferry(args: string[], until?: RegExp, extraEnv: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'bin', 'ferry'), ...args], { cwd: root, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const check = () => {
      if (until && until.test(stdout + stderr)) child.kill('SIGTERM');
    };
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); check(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); check(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 100_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('ferry setup and the worker against a namespace without ferry\'s search attributes', () => {
  it('the worker refuses to start, naming the namespace and `ferry setup` (exit 69)', async () => {
    const r = await ferry(['worker']);
    expect(r.code, r.stderr).toBe(EXIT.unavailable);
    expect(r.stderr).toContain(`ferry worker cannot start at ${server.address} (from TEMPORAL_ADDRESS), namespace 'default'`);
    expect(r.stderr).toContain(`namespace 'default' lacks ferry's search attributes ${ALL.join(', ')}: run \`ferry setup\``);
  }, 120_000);

  it('setup --check: exit 69 naming the missing ones; adds nothing', async () => {
    const r = await ferry(['setup', '--check']);
    expect(r.code, r.stderr).toBe(EXIT.unavailable);
    expect(r.stderr).toContain(`lacks ferry's search attributes ${ALL.join(', ')}: run \`ferry setup\``);
    const again = await ferry(['setup', '--check', '--json']);
    expect(again.code).toBe(EXIT.unavailable);
    expect(JSON.parse(again.stdout).error).toMatchObject({ kind: 'unavailable', missing: ALL, found: [] });
  }, 120_000);

  it('a namespace that does not exist: exit 69 naming it and the setting that chose it', async () => {
    const r = await ferry(['setup'], undefined, { TEMPORAL_NAMESPACE: 'nowhere' });
    expect(r.code, r.stderr).toBe(EXIT.unavailable);
    expect(r.stderr).toContain(`namespace 'nowhere' (from TEMPORAL_NAMESPACE) does not exist at ${server.address} (from TEMPORAL_ADDRESS)`);
  }, 120_000);

  it('setup adds them all and says so; a second run finds them all and adds nothing', async () => {
    const first = await ferry(['setup', '--json']);
    expect(first.code, first.stderr).toBe(EXIT.ok);
    expect(JSON.parse(first.stdout)).toEqual({ address: server.address, namespace: 'default', added: ALL, found: [] });
    const second = await ferry(['setup']);
    expect(second.code, second.stderr).toBe(EXIT.ok);
    expect(second.stderr).toContain(`search attributes at ${server.address} (from TEMPORAL_ADDRESS), namespace 'default'`);
    for (const name of ALL) expect(second.stdout).toMatch(new RegExp(`^${name} +KEYWORD +found$`, 'm'));
    expect(second.stdout).not.toContain('added');
  }, 120_000);

  it('then --check passes, and the worker gets past its check and polls', async () => {
    const check = await ferry(['setup', '--check', '--json']);
    expect(check.code, check.stderr).toBe(EXIT.ok);
    expect(JSON.parse(check.stdout)).toMatchObject({ added: [], found: ALL });
    const worker = await ferry(['worker'], /ferry worker started/);
    expect(worker.stderr + worker.stdout).toContain('ferry worker started');
    // The worker writes JSON lines only (no webpack statistics, no native core format); nothing on stdout.
    const lines = worker.stderr.split('\n').filter((l) => l !== '');
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    expect(worker.stdout).toBe('');
    expect(lines.map((l) => JSON.parse(l) as { message: string }).find((l) => l.message === 'ferry worker started')).toMatchObject({ level: 'info', metrics: 'off (FERRY_METRICS_ADDRESS=off)' });
    expect(worker.stderr + worker.stdout).not.toContain('lacks ferry');
  }, 120_000);
});

describe("the worker's metrics endpoint, as a process (after setup above)", () => {
  it('a busy address stops the worker (exit 69) naming FERRY_METRICS_ADDRESS and the way out', async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const address = `127.0.0.1:${(busy.address() as net.AddressInfo).port}`;
    try {
      const r = await ferry(['worker'], undefined, { FERRY_METRICS_ADDRESS: address });
      expect(r.code, r.stderr).toBe(EXIT.unavailable);
      expect(r.stderr).toContain(`cannot serve metrics at ${address} (FERRY_METRICS_ADDRESS)`);
      expect(r.stderr).toContain('FERRY_METRICS_ADDRESS=off');
    } finally {
      busy.close();
    }
  }, 120_000);

  it('a malformed address is refused before anything starts (exit 69), naming what is allowed', async () => {
    const r = await ferry(['worker'], undefined, { FERRY_METRICS_ADDRESS: 'localhost:9464' });
    expect(r.code, r.stderr).toBe(EXIT.unavailable);
    expect(r.stderr).toContain("FERRY_METRICS_ADDRESS must be IP:PORT (e.g. 127.0.0.1:9464, 0.0.0.0:9464, [::1]:9464) or 'off'");
  });

  it('a free address: the running worker answers /metrics with the SDK runtime series and the in-flight gauge', async () => {
    const address = `127.0.0.1:${await freeLoopbackPort()}`;
    const running = spawn(process.execPath, [path.join(root, 'bin', 'ferry'), 'worker'], { cwd: root, env: { ...env, FERRY_METRICS_ADDRESS: address }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    running.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    let scraped: Series[] = [];
    try {
      for (let i = 0; i < 300 && running.exitCode === null; i++) {
        scraped = await scrape(address).catch(() => []);
        if (find(scraped, ferryMetric.inFlight).length > 0 && find(scraped, 'temporal_worker_task_slots_available').length > 0) break;
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      running.kill('SIGTERM');
      if (running.exitCode === null) await new Promise((r) => running.once('close', r));
    }
    expect(stderr).toContain(`"metrics":"http://${address}/metrics"`);
    expect(find(scraped, ferryMetric.inFlight, { namespace: 'default' }).map((s) => s.value), stderr).toEqual([0]);
    expect(find(scraped, 'temporal_worker_task_slots_available', { task_queue: 'ferry-setup-test' }).length).toBeGreaterThan(0);
  }, 120_000);
});
