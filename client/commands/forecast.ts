/**
 * `ferry forecast <vm> [--to <host>] [--bandwidth <MiB/s>]`: what a migration would take, per
 * strategy, before moving anything. The work is in forecast-actions.ts, loaded when it runs.
 */
import type { Command } from 'commander';
import type { ExitCode } from '../exit-codes';
import { withOutputOptions } from '../output';

type Actions = typeof import('./forecast-actions');
const actions = (): Actions => require('./forecast-actions') as Actions;

function run<A extends unknown[]>(fn: (a: Actions, ...args: A) => Promise<ExitCode>) {
  return async (...args: A) => {
    process.exitCode = await fn(actions(), ...args);
  };
}

export function registerForecastCommand(program: Command): void {
  withOutputOptions(
    program
      .command('forecast')
      .summary('predict a migration before moving: time, downtime and bytes per strategy, and what auto would pick')
      .argument('<vm>', 'the VM name or UUID')
      .description(
        "forecast a migration: a worker runs the migration's source check and destination choice, measures the guest's dirty rate " +
          "(QEMU's page sampling, a few seconds), takes the path's bandwidth (--bandwidth, else the inventory's linkMiBps of both hosts), " +
          'and predicts with the dirty-page model each strategy (pre-copy, post-copy after the first pass, post-copy at once, pause). ' +
          'Nothing is claimed, prepared or moved.',
      )
      .option('--to <host>', 'the destination (checked for room); default: the host Placement would choose')
      .option('--bandwidth <MiB/s>', "the path's bandwidth, when the inventory gives no link speed for both hosts"),
  ).action(run((a, vm: string, o: Parameters<Actions['forecastCommand']>[1]) => a.forecastCommand(vm, o)));
}
