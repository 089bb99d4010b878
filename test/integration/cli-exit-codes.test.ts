/**
 * The CLI's exit codes, one test per code and per class of error, each checking that the message
 * names what was wrong. Deterministic outcomes come from the real workflows run by a worker with
 * scripted fake activities on the lab's Temporal (support/fake-worker.ts).
 */
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../client/exit-codes';
import {
  endedOnDestination, fakeActivities, Gate, hardFailure, precopy, refusal, type FakeScript,
} from '../workflow/support/fake-activities';
import { ensureTestLab } from './lab';
import { runFerry, type CliRun } from './support/cli';
import { executionsOn, startFakeWorkerContext, withFakeWorker, type FakeWorkerContext } from './support/fake-worker';

let ctx: FakeWorkerContext;

beforeAll(async () => {
  await ensureTestLab();
  ctx = await startFakeWorkerContext();
});
afterAll(async () => {
  await ctx?.close();
});

/** A TCP port on loopback that nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A fake VM with a name of its own (visibility keeps every earlier run's names). */
function fakeVm(script: Partial<FakeScript> = {}) {
  return fakeActivities({ samples: [precopy(1, 64), precopy(2, 4), endedOnDestination()], ...script, vm: { name: `exit-${randomUUID().slice(0, 8)}`, ...script.vm } });
}

function ferryOn(taskQueue: string, args: string[]): Promise<CliRun> {
  return runFerry(args, { env: { TEMPORAL_ADDRESS: ctx.address, FERRY_TASK_QUEUE: taskQueue } });
}

const expectExit = (r: CliRun, code: number) => expect(r.code, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(code);

describe('69: Temporal cannot be reached, or nobody works the task queue', () => {
  it('a closed port: names the address, the namespace and the settings that chose them', async () => {
    const address = `127.0.0.1:${await closedPort()}`;
    const r = await runFerry(['list'], { env: { TEMPORAL_ADDRESS: address } });
    expectExit(r, EXIT.unavailable);
    expect(r.stderr).toContain(`cannot reach Temporal at ${address} (from TEMPORAL_ADDRESS)`);
    expect(r.stderr).toContain("namespace 'default' (default; TEMPORAL_NAMESPACE unset");
    expect(r.stderr).not.toMatch(/^ferry: .*refused\s*$/m);
    const j = await runFerry(['status', 'web-7', '--output', 'json'], { env: { TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: 'prod' } });
    expectExit(j, EXIT.unavailable);
    expect(j.json().error).toMatchObject({ kind: 'unavailable', exitCode: 69, address, namespace: 'prod', addressFrom: 'from TEMPORAL_ADDRESS', namespaceFrom: 'from TEMPORAL_NAMESPACE' });
  });

  it("with nothing set, says it tried the lab's default address and that TEMPORAL_ADDRESS is unset", async () => {
    // In a network namespace of its own, nothing listens on the default 127.0.0.1:7233.
    const r = await runFerry(['history', 'web-7'], { noNetwork: true });
    expectExit(r, EXIT.unavailable);
    expect(r.stderr).toContain("cannot reach Temporal at 127.0.0.1:7233 (default, the lab's; TEMPORAL_ADDRESS unset");
  });

  it('no worker polls the task queue: migrate says so, names the queue, and starts nothing', async () => {
    const taskQueue = `cli-nobody-${randomUUID()}`;
    const r = await ferryOn(taskQueue, ['migrate', 'web-7', '--to', 'host-b']);
    expectExit(r, EXIT.unavailable);
    expect(r.stderr).toContain(`no worker polls task queue '${taskQueue}' (from FERRY_TASK_QUEUE)`);
    expect(r.stderr).toContain(ctx.address);
    expect(await executionsOn(ctx, taskQueue)).toBe(0);
  });

  it('a bad configuration names the setting', async () => {
    const r = await runFerry(['list'], { env: { TEMPORAL_ADDRESS: ctx.address, TEMPORAL_TLS_CLIENT_CERT_PATH: '/nonexistent.pem' } });
    expectExit(r, EXIT.unavailable);
    expect(r.stderr).toContain('a TLS client certificate and its key go together: TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH');
  });
});

describe('64: usage errors are found before anything is contacted', () => {
  // An address where a connection would fail with 69: a 64 proves nothing was contacted first.
  let unreachable: Record<string, string>;
  beforeAll(async () => {
    unreachable = { TEMPORAL_ADDRESS: `127.0.0.1:${await closedPort()}` };
  });

  it.each([
    [['migrate', 'web-7', '--bandwidth', 'fast'], "--bandwidth must be a number, got 'fast'"],
    [['migrate', 'web-7', '--bandwidth', '0'], '--bandwidth: must be at least 1 (got 0)'],
    [['migrate', 'web-7', '--policy', '{"postcopy":'], '--policy must be a JSON object'],
    [['migrate', 'web-7', '--policy', '{"postcopy":{"alowed":false}}'], '--policy postcopy.alowed: unknown field'],
    [['migrate', 'web-7', '--force'], '--force needs --to <host>'],
    [['set', 'web-7', '--max-downtime', 'soon'], "--max-downtime must be a number, got 'soon'"],
    [['set', 'web-7'], 'give --max-downtime <ms> and/or --bandwidth <MiB/s>'],
    [['list', '--since', 'yesterday'], '--since must be an ISO time'],
    [['list', '--limit', '-3'], '--limit must be a whole number of at least 1'],
    [['list', '--status', 'sleeping'], '--status must be one of running, completed'],
    [['status', 'not a vm!'], "'not a vm!' is neither a migration id"],
    [['abort', 'web-7', '--bogus'], "unknown option '--bogus'"],
    [['list', '--output', 'yaml'], '--output must be table or json'],
  ])('%j', async (args, message) => {
    const r = await runFerry(args, { env: unreachable });
    expectExit(r, EXIT.usage);
    expect(r.stderr).toContain(message);
  });

  it('--output json prints the usage error as a JSON object on stdout', async () => {
    const r = await runFerry(['migrate', 'web-7', '--bandwidth', 'fast', '--json'], { env: unreachable });
    expectExit(r, EXIT.usage);
    expect(r.json()).toEqual({ error: { kind: 'usage', exitCode: 64, message: "--bandwidth must be a number, got 'fast'", option: '--bandwidth', value: 'fast' } });
  });
});

describe('2: refused by ferry', () => {
  it('an unknown VM: names the VM and the hosts searched; --output json gives a JSON error', async () => {
    const fake = fakeVm();
    await withFakeWorker(ctx, fake, async (taskQueue) => {
      const r = await ferryOn(taskQueue, ['migrate', 'no-such-vm']);
      expectExit(r, EXIT.refused);
      expect(r.stderr).toContain("VM 'no-such-vm' runs on none of the hosts ferry knows (host-c, host-a)");
      const j = await ferryOn(taskQueue, ['migrate', 'no-such-vm', '-o', 'json']);
      expectExit(j, EXIT.refused);
      expect(j.json().error).toMatchObject({ kind: 'refused', exitCode: 2, vm: 'no-such-vm', hosts: ['host-c', 'host-a'] });
      expect(j.json().error.message).toContain("VM 'no-such-vm' runs on none");
    });
    expect(fake.names()).toEqual(['locateVm', 'locateVm']);
  });

  it('a VM running on two hosts: says where it was seen, starts nothing', async () => {
    const fake = fakeVm({
      overrides: {
        locateVm: async (input) => ({
          found: [
            { host: 'host-a', name: input.vm, uuid: randomUUID(), state: 'running', reason: 'Booted' },
            { host: 'host-b', name: input.vm, uuid: randomUUID(), state: 'paused', reason: 'Migration' },
          ],
          unreachable: [],
          hosts: ['host-a', 'host-b'],
        }),
      },
    });
    await withFakeWorker(ctx, fake, async (taskQueue) => {
      const r = await ferryOn(taskQueue, ['migrate', fake.vm.name]);
      expectExit(r, EXIT.refused);
      expect(r.stderr).toContain(`VM '${fake.vm.name}' runs on several hosts: host-a (running, Booted), host-b (paused, Migration)`);
    });
    expect(fake.names()).toEqual(['locateVm']);
  });

  it('an unknown destination host: names the hosts ferry knows', async () => {
    const fake = fakeVm();
    await withFakeWorker(ctx, fake, async (taskQueue) => {
      const r = await ferryOn(taskQueue, ['migrate', fake.vm.name, '--to', 'host-z']);
      expectExit(r, EXIT.refused);
      expect(r.stderr).toContain("unknown host 'host-z': ferry knows host-c, host-a");
    });
    expect(fake.names()).toEqual(['locateVm']);
  });

  it("a pre-check's refusal inside the workflow: the workflow's reason", async () => {
    const fake = fakeVm({ overrides: { checkSource: async () => { throw refusal('the VM has a VFIO device (hostdev 0000:3b:00.0): it cannot be live-migrated'); } } });
    await withFakeWorker(ctx, fake, async (taskQueue) => {
      const r = await ferryOn(taskQueue, ['migrate', fake.vm.name]);
      expectExit(r, EXIT.refused);
      expect(r.stderr).toContain(`migration migrate-${fake.vm.uuid} refused: the VM has a VFIO device`);
    });
  });
});

describe('1, 3 and 0: how the migration ended', () => {
  it('1: failed — a hard libvirt failure; the outcome says why', async () => {
    const fake = fakeVm({ overrides: { startMigration: async () => { throw hardFailure('cannot connect to the destination daemon: connection refused'); } } });
    await withFakeWorker(ctx, fake, async (taskQueue) => {
      const r = await ferryOn(taskQueue, ['migrate', fake.vm.name, '--to', 'host-a']);
      expectExit(r, EXIT.failed);
      expect(r.stdout).toMatch(/^failed: /);
      expect(r.stdout).toContain('cannot connect to the destination daemon');
    });
  });

  it('3: rolled back — aborted by the operator through the CLI while migrate waits; a refused force-complete is 2 with its reason', async () => {
    const hold = new Gate(precopy(2, 40));
    const fake = fakeVm({ samples: [precopy(1, 64), hold] });
    await withFakeWorker(ctx, fake, async (taskQueue) => {
      const migrating = ferryOn(taskQueue, ['migrate', fake.vm.name, '--policy', '{"postcopy":{"allowed":false},"pause":{"allowed":false}}']);
      await hold.reached;
      const fc = await ferryOn(taskQueue, ['force-complete', fake.vm.name]);
      expectExit(fc, EXIT.refused);
      expect(fc.stderr).toContain('force-complete refused');
      expect(fc.stderr).toContain('pausing the guest not allowed by policy');
      const ab = await ferryOn(taskQueue, ['abort', fake.vm.uuid, '--reason', 'exit-code test']);
      expectExit(ab, EXIT.ok);
      expect(ab.stdout).toContain(`migrate-${fake.vm.uuid}: aborting`);
      hold.release();
      const r = await migrating;
      expectExit(r, EXIT.rolledBack);
      expect(r.stdout).toMatch(/^rolled_back: /);
      const again = await ferryOn(taskQueue, ['abort', fake.vm.name, '-o', 'json']);
      expectExit(again, EXIT.refused);
      expect(again.json().error.message).toContain(`migration migrate-${fake.vm.uuid} is over (completed)`);
    });
  });

  it('0: completed — the outcome on stdout, as JSON with --output json', async () => {
    const fake = fakeVm();
    await withFakeWorker(ctx, fake, async (taskQueue) => {
      const r = await ferryOn(taskQueue, ['migrate', fake.vm.name, '--to', 'host-a', '--output', 'json']);
      expectExit(r, EXIT.ok);
      expect(r.json()).toMatchObject({ workflowId: `migrate-${fake.vm.uuid}`, outcome: { outcome: 'completed', source: 'host-c', destination: 'host-a' } });
    });
  });
});
