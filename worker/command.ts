/**
 * `ferry worker`: registered by the composition root (entry/ferry.ts). The worker's code (the
 * Temporal worker, activities, libvirt and Placement clients) loads only when the command runs.
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { RunWorkerOptions } from './main';

export function registerWorkerCommand(program: Command, opts: RunWorkerOptions): void {
  program
    .command('worker')
    .summary("run a ferry worker (Temporal from TEMPORAL_* or the profile, hosts and Placement from FERRY_*, else the running lab's)")
    .description(
      "run a ferry worker on the Temporal of TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TEMPORAL_TLS_* / TEMPORAL_API_KEY or the profile " +
        "(TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE), else the running lab's; task queue FERRY_TASK_QUEUE (default 'ferry'); " +
        "hosts from FERRY_HOSTS_FILE and Placement at FERRY_PLACEMENT_URL, else the running lab's. Refuses to start when the " +
        "namespace lacks ferry's search attributes (run `ferry setup`). Stops gracefully on SIGINT/SIGTERM",
    )
    .option('--sim <spec.json>', 'run on a simulated fleet (hosts, QEMU and Placement in memory: worker/sim-worker.ts) instead of libvirt and Placement')
    .option('--max-cached-workflows <n>', 'with --sim: workflows kept in memory between tasks', positiveInt)
    .option('--max-concurrent-workflow-tasks <n>', 'with --sim: workflow tasks at once', positiveInt)
    .option('--max-concurrent-activities <n>', 'with --sim: activities at once', positiveInt)
    .action(async (o: { sim?: string; maxCachedWorkflows?: number; maxConcurrentWorkflowTasks?: number; maxConcurrentActivities?: number }) => {
      if (o.sim !== undefined) {
        const { runSimWorker } = require('./sim-main') as typeof import('./sim-main');
        await runSimWorker(o.sim, {
          ...(o.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: o.maxCachedWorkflows } : {}),
          ...(o.maxConcurrentWorkflowTasks !== undefined ? { maxConcurrentWorkflowTaskExecutions: o.maxConcurrentWorkflowTasks } : {}),
          ...(o.maxConcurrentActivities !== undefined ? { maxConcurrentActivityTaskExecutions: o.maxConcurrentActivities } : {}),
        }, opts.unavailable);
        return;
      }
      const { runWorker } = require('./main') as typeof import('./main');
      await runWorker(opts);
    });
}

/** A tuning number: a positive integer, else a usage error naming the value. */
function positiveInt(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`'${raw}' is not a positive integer`);
  return n;
}
