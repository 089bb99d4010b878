/**
 * `ferry worker`: registered by the composition root (entry/ferry.ts). The worker's code (the
 * Temporal worker, activities, libvirt and Placement clients) loads only when the command runs.
 */
import type { Command } from 'commander';
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
    .action(async () => {
      const { runWorker } = require('./main') as typeof import('./main');
      await runWorker(opts);
    });
}
