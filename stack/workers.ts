/**
 * The stack's ferry workers: `ferry worker` processes on the stack's Temporal. The first reads
 * Temporal's configuration from the stack's envconfig profile, the second from TEMPORAL_*
 * variables: both ways operators configure a worker, on the same cluster. Stopped by PID
 * (SIGTERM: the worker's graceful stop), and only while that PID is still our worker.
 */
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../lab/paths';
import { isAlive, readPid, startDaemon, stopByPidFile } from '../lab/proc';
import { clientEnvironment, profileEnvironment, withoutTemporalSettings } from './client-config';
import type { StackTls } from './certs';
import { stackFiles } from './paths';
import { STACK_TASK_QUEUE, STACK_WORKERS } from './versions';

export interface WorkerSpec {
  name: string;
  /** How this worker is told where Temporal is. */
  configuredBy: 'profile' | 'TEMPORAL_* variables';
  pidFile: string;
  logFile: string;
}

export function workerSpecs(): WorkerSpec[] {
  const f = stackFiles();
  return Array.from({ length: STACK_WORKERS }, (_, i) => ({
    name: `worker-${i + 1}`,
    configuredBy: i % 2 === 0 ? ('profile' as const) : ('TEMPORAL_* variables' as const),
    pidFile: path.join(f.workersDir, `worker-${i + 1}.pid`),
    logFile: path.join(f.workersDir, `worker-${i + 1}.log`),
  }));
}

/** Ours: recorded, alive, and a ferry worker with the stack's hosts file in its environment. */
export function workerPid(spec: WorkerSpec): number | undefined {
  const pid = readPid(spec.pidFile);
  if (pid === undefined || !isAlive(pid)) return undefined;
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    return cmdline.includes('worker') && environ.includes(`FERRY_HOSTS_FILE=${stackFiles().hostsFile}`) ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function startWorker(spec: WorkerSpec, tls: StackTls, placementUrl: string): { pid: number; reused: boolean } {
  const running = workerPid(spec);
  if (running !== undefined) return { pid: running, reused: true };
  const f = stackFiles();
  const temporal = spec.configuredBy === 'profile' ? profileEnvironment(f.clientConfig) : clientEnvironment(tls);
  const env: NodeJS.ProcessEnv = {
    ...withoutTemporalSettings(process.env),
    ...temporal,
    FERRY_TASK_QUEUE: STACK_TASK_QUEUE,
    FERRY_HOSTS_FILE: f.hostsFile,
    FERRY_PLACEMENT_URL: placementUrl,
    // Two workers on one machine: each its own metrics port (the default one would refuse the second).
    FERRY_METRICS_ADDRESS: `127.0.0.1:${spec.configuredBy === 'profile' ? 19464 : 19465}`,
  };
  fs.appendFileSync(spec.logFile, `\n--- ${new Date().toISOString()} ferry worker (${spec.configuredBy})\n`);
  const pid = startDaemon(process.execPath, [path.join(repoRoot, 'bin', 'ferry'), 'worker'], { logFile: spec.logFile, pidFile: spec.pidFile, env, cwd: repoRoot });
  return { pid, reused: false };
}

export async function stopWorker(spec: WorkerSpec): Promise<void> {
  if (workerPid(spec) === undefined) {
    fs.rmSync(spec.pidFile, { force: true });
    return;
  }
  await stopByPidFile(spec.pidFile, 20_000);
}
