/**
 * The matrix's workers: gated ferry workers (gated-worker.ts) on the matrix's own task queue,
 * each a separate process so a case can SIGKILL the one doing the work. Which one that is comes
 * from the gate (the holder's pid) or from Temporal (the pending activity's worker identity,
 * `<pid>@<hostname>` by default).
 */
import path from 'node:path';
import type { FerryClient } from '../../../client/ferry-client';
import { repoRoot } from '../../../lab/paths';
import { startWorkerProcess, type WorkerProcess } from '../../integration/support/lab-processes';

export const MATRIX_TASK_QUEUE = 'ferry-fault-matrix';

export class WorkerPool {
  private readonly workers: WorkerProcess[] = [];
  private started = 0;

  constructor(private readonly gateDir: string) {}

  private alive(): WorkerProcess[] {
    return this.workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
  }

  /** Starts workers until n run. */
  async ensure(n: number): Promise<void> {
    while (this.alive().length < n) await this.startOne();
  }

  async startOne(): Promise<WorkerProcess> {
    const w = await startWorkerProcess(`matrix-${++this.started}`, {
      taskQueue: MATRIX_TASK_QUEUE,
      argv: ['-r', 'tsx/cjs', path.join(repoRoot, 'test', 'faults', 'matrix', 'gated-worker.ts'), this.gateDir],
    });
    this.workers.push(w);
    return w;
  }

  /** SIGKILLs the worker with this pid (one of ours, or nothing). */
  async kill(pid: number): Promise<boolean> {
    const w = this.alive().find((x) => x.child.pid === pid);
    if (!w) return false;
    await w.kill('SIGKILL');
    return true;
  }

  /** The pid of our worker running an activity of the migration now (Temporal's view), if any. */
  async busyPid(client: FerryClient, workflowId: string): Promise<number | undefined> {
    const d = await client.describe(workflowId);
    const ours = new Set(this.alive().map((w) => w.child.pid));
    for (const a of d.raw.pendingActivities ?? []) {
      const pid = Number(/^(\d+)@/.exec(a.lastWorkerIdentity ?? '')?.[1]);
      if (ours.has(pid)) return pid;
    }
    return undefined;
  }

  async stopAll(): Promise<void> {
    for (const w of this.alive()) await w.kill('SIGTERM').catch(() => w.kill('SIGKILL'));
  }
}
