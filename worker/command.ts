/**
 * `ferry worker`: registered by the composition root (entry/ferry.ts). The worker's code (the
 * Temporal worker, activities, libvirt and Placement clients) loads only when the command runs.
 */
import type { Command } from 'commander';
import type { RunWorkerOptions } from './main';

export function registerWorkerCommand(program: Command, opts: RunWorkerOptions): void {
  program
    .command('worker')
    .summary('run a ferry worker (Temporal task queue, hosts, Placement from FERRY_* or the running lab)')
    .description(
      "run a ferry worker on Temporal at FERRY_TEMPORAL_ADDRESS (namespace FERRY_TEMPORAL_NAMESPACE, task queue FERRY_TASK_QUEUE, default 'ferry'); " +
        'hosts from FERRY_HOSTS_FILE and Placement at FERRY_PLACEMENT_URL, else the running lab\'s; stops gracefully on SIGINT/SIGTERM',
    )
    .action(async () => {
      const { runWorker } = require('./main') as typeof import('./main');
      await runWorker(opts);
    });
}
