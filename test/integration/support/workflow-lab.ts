import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { PlacementClient } from '../../../activities/placement';
import { FerryClient } from '../../../client/ferry-client';
import { cliConfig } from '../../../client/context';
import { labDir, repoRoot } from '../../../lab/paths';
import { startPlacement } from '../../../lab/placement';
import { isAlive, waitFor } from '../../../lab/proc';
import { requireLabState } from '../../../lab/state';
import { locateVm } from '../../../lab/vms';

/** Workflow integration tests run their own worker process on their own task queue. */
export const IT_TASK_QUEUE = 'ferry-it';

export interface WorkerProcess {
  child: ChildProcess;
  logFile: string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `ferry worker` as a separate process (so a test can SIGKILL it) and waits until it polls. */
export async function startWorkerProcess(tag: string): Promise<WorkerProcess> {
  const logFile = path.join(labDir(), 'test-workers', `${tag}-${Date.now()}.log`);
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const out = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'ferry'), 'worker'], {
    env: { ...process.env, FERRY_TASK_QUEUE: IT_TASK_QUEUE },
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  await waitFor(`the worker (${logFile}) to poll`, () => {
    if (child.exitCode !== null) throw new Error(`the worker exited: ${fs.readFileSync(logFile, 'utf8').slice(-2000)}`);
    return /state: 'RUNNING'/.test(fs.readFileSync(logFile, 'utf8'));
  }, { timeoutMs: 120_000, intervalMs: 250 });
  return {
    child,
    logFile,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.pid === undefined || !isAlive(child.pid)) return;
      child.kill(signal);
      await waitFor('the worker to exit', () => child.exitCode !== null || child.signalCode !== null, { timeoutMs: 30_000 });
    },
  };
}

export async function itClient(): Promise<FerryClient> {
  return FerryClient.connect({ ...(await cliConfig()), FERRY_TASK_QUEUE: IT_TASK_QUEUE });
}

export async function placementClient(): Promise<PlacementClient> {
  return new PlacementClient({ baseUrl: (await startPlacement()).url });
}

export function rpOf(host: string): string {
  return requireLabState().hosts.find((h) => h.name === host)!.uuid;
}

/**
 * After every migration test: the VM runs on exactly one host, no definition of it is left
 * elsewhere, its allocation is only on that host's provider, and no migration consumer is left.
 */
export async function expectInvariants(vm: { name: string; uuid: string }, host: string, migrationId?: string): Promise<void> {
  const where = await locateVm(vm.name);
  expect(where.host).toBe(host);
  expect(where.presentOn).toEqual([{ host, state: 'running', reason: expect.any(String) }]);
  const p = await placementClient();
  const alloc = await p.getAllocations(vm.uuid);
  expect(Object.keys(alloc.allocations)).toEqual([rpOf(host)]);
  if (migrationId) expect((await p.getAllocations(migrationId)).allocations).toEqual({});
}

/** A Placement consumer that takes a host's free memory, so the host has no room; returns a cleanup. */
export async function fillHost(host: string, leaveMb: number): Promise<() => Promise<void>> {
  const p = await placementClient();
  const rp = rpOf(host);
  const usages = await p.getUsages(rp);
  const inv = await p.getInventories(rp);
  const free = inv.inventories.MEMORY_MB!.total - (usages.usages.MEMORY_MB ?? 0);
  const filler = crypto.randomUUID();
  await p.putAllocations(filler, {
    allocations: { [rp]: { MEMORY_MB: free - leaveMb } },
    projectId: '00000000-0000-4000-8000-00000000f0e1',
    userId: '00000000-0000-4000-8000-00000000f0e2',
    consumerGeneration: null,
    consumerType: 'INSTANCE',
  });
  return async () => {
    await p.deleteAllocations(filler);
  };
}
