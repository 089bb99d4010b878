/**
 * The operator's commands: what each takes and what it prints. The work is in migration-actions.ts,
 * loaded only when a command runs (so `ferry --help` does not load the Temporal client).
 */
import type { Command } from 'commander';
import { EXIT, type ExitCode } from '../exit-codes';
import { withOutputOptions } from '../output';

type Actions = typeof import('./migration-actions');
// require, not import(): tsx and compiled CommonJS resolve it alike (import() of an extensionless path fails under tsx).
const actions = (): Actions => require('./migration-actions') as Actions;

/** An action whose result is the process's exit code. */
function run<A extends unknown[]>(fn: (a: Actions, ...args: A) => Promise<ExitCode>) {
  return async (...args: A) => {
    process.exitCode = await fn(actions(), ...args);
  };
}

const MIGRATION_ARG = 'a migration: its id migrate-<vm uuid>, a VM UUID, or a VM name (its newest migration, a running one first)';

export function registerMigrationCommands(program: Command): void {
  withOutputOptions(
    program
      .command('migrate')
      .summary('live-migrate a VM (name or UUID) with a progress bar; prints the outcome')
      .argument('<vm>', 'the VM to move: libvirt name or UUID (a worker finds the host it runs on)')
      .description(
        'live-migrate a VM: a worker locates it (this machine needs only Temporal), then migration migrate-<vm uuid> ' +
          'starts (one per VM); shows its progress bar on stderr and prints the outcome; exit ' +
          `${EXIT.ok} completed, ${EXIT.failed} failed, ${EXIT.refused} refused, ${EXIT.rolledBack} rolled back or aborted. ` +
          `Ctrl-C stops watching (exit ${EXIT.interrupted}), not the migration.`,
      )
      .option('--to <host>', 'destination host (default: Placement chooses one with room)')
      .option('--force', 'with --to: skip the Placement candidate check (the claim still checks capacity)')
      .option('--policy <json>', 'convergence policy overrides as a JSON object (ferry schema shows them)')
      .option('--strategy <strategy>', "auto: forecast the guest on this path and pick pre-copy, post-copy after the first pass or pausing (ferry forecast shows it); as-configured (default): the policy decides")
      .option('--bandwidth <MiB/s>', 'migration bandwidth cap in MiB/s')
      .option('--detach', 'print the migration id once started and return without waiting'),
  ).action(run((a, vm: string, o: Parameters<Actions['migrate']>[1]) => a.migrate(vm, o)));

  withOutputOptions(
    program
      .command('status')
      .summary("a migration's progress and decisions, or its outcome")
      .argument('<migration>', MIGRATION_ARG)
      .description("a migration: a running one's progress bar and decisions (its resolved policy too with --output json); a finished one's outcome"),
  ).action(run((a, ref: string, o: Parameters<Actions['status']>[1]) => a.status(ref, o)));

  withOutputOptions(
    program
      .command('list')
      .summary('migrations known to Temporal, newest first (filters: --vm --host --status --since --limit)')
      .description('migrations known to Temporal, newest first: started, migration id, run id, status, VM, source -> destination, phase, outcome')
      .option('--vm <vm>', 'only this VM (name or UUID)')
      .option('--host <host>', 'only migrations from or to this host')
      .option('--status <status>', 'only runs in this state: running, completed, failed, canceled, terminated, timed-out, continued-as-new')
      .option('--running', 'same as --status running')
      .option('--since <time>', 'only those started since an ISO time (2025-01-31T08:00:00Z) or a duration ago (30m, 2h, 7d)')
      .option('--limit <n>', 'at most this many (default 50)'),
  ).action(run((a, o: Parameters<Actions['list']>[0]) => a.list(o)));

  withOutputOptions(
    program
      .command('history')
      .summary("a VM's migrations, newest first")
      .argument('<vm>', 'a VM name or UUID (or a migration id migrate-<vm uuid>)')
      .description("every migration of one VM, newest first: started, closed, migration id, run id, source -> destination, status, outcome")
      .option('--limit <n>', 'at most this many (default 500)'),
  ).action(run((a, vm: string, o: Parameters<Actions['history']>[1]) => a.history(vm, o)));

  withOutputOptions(
    program
      .command('abort')
      .summary('abort a migration before the switch-over: it rolls back')
      .argument('<migration>', MIGRATION_ARG)
      .description(`abort a migration before the switch-over: it rolls back and the VM stays on its source; refused (exit ${EXIT.refused}, with the validator's reason) in post-copy or when over`)
      .option('--reason <text>', 'why, for the record'),
  ).action(run((a, ref: string, o: Parameters<Actions['abort']>[1]) => a.abort(ref, o)));

  withOutputOptions(
    program
      .command('force-complete')
      .summary('finish now: post-copy if allowed, else pause the guest')
      .argument('<migration>', MIGRATION_ARG)
      .description(`finish now: switch to post-copy if the policy allows it, else pause the guest; refused (exit ${EXIT.refused}, with the reason) when neither may be used`),
  ).action(run((a, ref: string, o: Parameters<Actions['forceComplete']>[1]) => a.forceComplete(ref, o)));

  withOutputOptions(
    program
      .command('resume-recovery')
      .summary('after an escalated post-copy recovery: observe both hosts and try again')
      .argument('<migration>', MIGRATION_ARG)
      .description(`an escalated post-copy recovery (phase escalated: ferry status says why) tries again once the cause is fixed; refused (exit ${EXIT.refused}) when the migration is not escalated`),
  ).action(run((a, ref: string, o: Parameters<Actions['resumeRecovery']>[1]) => a.resumeRecovery(ref, o)));

  withOutputOptions(
    program
      .command('set')
      .summary("change a running migration's max downtime and/or bandwidth")
      .argument('<migration>', MIGRATION_ARG)
      .description('change a running migration from its next decision point: max downtime and/or bandwidth')
      .option('--max-downtime <ms>', 'max downtime in ms (1..2000000)')
      .option('--bandwidth <MiB/s>', 'bandwidth in MiB/s (1..1000000)'),
  ).action(run((a, ref: string, o: Parameters<Actions['set']>[1]) => a.set(ref, o)));

  withOutputOptions(
    program.command('schema').description('the JSON Schema of a migration request (for the Temporal CLI and UI)'),
  ).action(run((a, o: Parameters<Actions['schema']>[0]) => a.schema(o)));
}
