/**
 * The lab's processes and services as tests (and the fault matrix, run outside vitest) use them:
 * worker processes, a client on the lab's Temporal, Placement. No vitest here: workflow-lab.ts
 * adds the assertions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PlacementClient } from '../../../activities/placement';
import { loadClientConfig, type ClientConfig } from '../../../client/config';
import { FerryClient } from '../../../client/ferry-client';
import { labDir, repoRoot } from '../../../lab/paths';
import { startPlacement } from '../../../lab/placement';
import { isAlive, waitFor } from '../../../lab/proc';
import { requireLabState } from '../../../lab/state';
import { temporalStatus } from '../../../lab/temporal';

/** Workflow integration tests run their own worker process on their own task queue. */
export const IT_TASK_QUEUE = 'ferry-it';

/** The lab's Temporal frontend (test support may read lab state; the CLI never does). */
export async function labTemporalAddress(): Promise<string> {
  const t = await temporalStatus();
  if (!t.running) throw new Error("the lab's Temporal server is not running: bring the lab up (ferry lab up)");
  return t.address;
}

/** The client configuration of the lab's Temporal, as an operator would set it in the environment. */
export async function labClientConfig(taskQueue = IT_TASK_QUEUE): Promise<ClientConfig> {
  return loadClientConfig(taskQueue, { TEMPORAL_ADDRESS: await labTemporalAddress(), FERRY_TASK_QUEUE: taskQueue });
}

export interface WorkerProcess {
  child: ChildProcess;
  logFile: string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts `ferry worker` as a separate process (so a test can SIGKILL it) and waits until it polls.
 * Hosts and Placement come from the lab (the worker's lab fallback); Temporal is named explicitly.
 * `argv`: another worker entry than `ferry worker` (the fault matrix's gated worker).
 * `env`: more of the worker's environment (e.g. FERRY_HOSTS_FILE).
 */
export async function startWorkerProcess(tag: string, opts: { taskQueue?: string; argv?: string[]; env?: Record<string, string> } = {}): Promise<WorkerProcess> {
  const logFile = path.join(labDir(), 'test-workers', `${tag}-${Date.now()}.log`);
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const out = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, opts.argv ?? [path.join(repoRoot, 'bin', 'ferry'), 'worker'], {
    // No metrics endpoint: several test workers run at once, and the lab's worker may hold the default port.
    env: { ...process.env, TEMPORAL_ADDRESS: await labTemporalAddress(), FERRY_TASK_QUEUE: opts.taskQueue ?? IT_TASK_QUEUE, FERRY_METRICS_ADDRESS: 'off', ...opts.env },
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  await waitFor(`the worker (${logFile}) to poll`, () => {
    if (child.exitCode !== null) throw new Error(`the worker exited: ${fs.readFileSync(logFile, 'utf8').slice(-2000)}`);
    // The worker logs JSON lines: the SDK's "Worker state changed" with {"state":"RUNNING"}.
    return /"state":"RUNNING"/.test(fs.readFileSync(logFile, 'utf8'));
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

export async function itClient(taskQueue = IT_TASK_QUEUE): Promise<FerryClient> {
  return FerryClient.connect(await labClientConfig(taskQueue));
}

export async function placementClient(): Promise<PlacementClient> {
  return new PlacementClient({ baseUrl: (await startPlacement()).url });
}

export function rpOf(host: string): string {
  return requireLabState().hosts.find((h) => h.name === host)!.uuid;
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
