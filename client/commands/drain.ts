/**
 * The drain's commands: `ferry drain <host>`, `ferry drain status <host>`, `ferry drain cancel
 * <host>`, `ferry host release <host>`. The work is in drain-actions.ts, loaded when a command runs.
 */
import type { Command } from 'commander';
import { EXIT, type ExitCode } from '../exit-codes';
import { withOutputOptions } from '../output';

type Actions = typeof import('./drain-actions');
const actions = (): Actions => require('./drain-actions') as Actions;

function run<A extends unknown[]>(fn: (a: Actions, ...args: A) => Promise<ExitCode>) {
  return async (...args: A) => {
    process.exitCode = await fn(actions(), ...args);
  };
}

export function registerDrainCommands(program: Command): void {
  withOutputOptions(
    program
      .command('drain')
      .summary('move every VM off a host (plan, reserve, migrate, report); also: drain status|cancel <host>')
      .usage('<host> [options] | status <host> | cancel <host> [--abort-in-flight]')
      .argument('<host-or-action>', "the host to drain, or 'status' or 'cancel' followed by the host")
      .argument('[host]', 'the host, after status or cancel')
      .description(
        'drain a host: a worker plans where each VM goes (Placement allocation candidates), marks the host in maintenance, ' +
          'reserves the room, then migrates the VMs one child migration each (migrate-<vm uuid>) under the limits, ' +
          'retrying elsewhere a bounded number of times; prints the report. ' +
          `Exit ${EXIT.ok} drained (or dry run), ${EXIT.failed} some VMs stayed, ${EXIT.rolledBack} cancelled. ` +
          "'ferry drain status <host>' shows a drain's progress or report; 'ferry drain cancel <host>' stops it " +
          '(no new move starts; in-flight ones finish, or abort where still safe with --abort-in-flight). ' +
          "The host stays in maintenance after the drain: 'ferry host release <host>'.",
      )
      .option('--dry-run', 'only print the plan: nothing is reserved, marked or moved')
      .option('--max-parallel <n>', 'migrations out of the host at once (default 2)')
      .option('--max-into-host <n>', 'migrations into any one host at once (default 2)')
      .option('--max-cluster <n>', 'migrations at once in the whole cluster (default 4)')
      .option('--link-bandwidth <MiB/s>', 'bandwidth budget of each source->destination link')
      .option('--move-bandwidth <MiB/s>', "each migration's bandwidth cap")
      .option('--max-attempts <n>', 'attempts per VM before it is reported failed (default 3)')
      .option('--retry-after <seconds>', 'wait before the first retry (default 30; doubles each time)')
      .option('--detach', 'print the drain id once started and return without waiting')
      .option('--abort-in-flight', 'with cancel: also abort the migrations in flight where still safe (before post-copy)')
      .option('--reason <text>', 'with cancel: why, for the record'),
  ).action(run((a, first: string, host: string | undefined, o: Parameters<Actions['drainCommand']>[2]) => a.drainCommand(first, host, o)));

  const hostCmd = program.command('host').summary("a host's maintenance state: host release <host>").description("a host's maintenance state");
  withOutputOptions(
    hostCmd
      .command('release')
      .argument('<host>', 'the host to take out of maintenance')
      .description("take a host out of maintenance (the drain's mark in Placement), so migrations may pick it as a destination again; refused while its drain runs"),
  ).action(run((a, host: string, o: Parameters<Actions['release']>[1]) => a.release(host, o)));
}
