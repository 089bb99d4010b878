/**
 * `ferry simulate <trace.json> --policy a.json --policy b.json`: a recorded lab trace replayed
 * under each policy (what-if, worker/what-if.ts), printed side by side with what was recorded.
 * Runs locally and talks to nothing: no Temporal, no libvirt, no Placement. Registered by the
 * composition root; its code loads only when the command runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';

export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .summary('replay a recorded lab trace under other convergence policies (what-if), side by side')
    .description(
      'replay a recorded lab trace (test/fixtures/traces format: its RAM, bandwidth and dirty rate, fitted) through the dirty-page ' +
        "model with ferry's own convergence controller, once per --policy (a JSON file of policy overrides, as `ferry migrate " +
        "--policy` takes; '{}' is the default policy), and print each outcome beside the recorded one. Local and pure: talks to no " +
        'Temporal, libvirt or Placement',
    )
    .argument('<trace.json>', 'a trace recorded by bench/record-trace.ts')
    .requiredOption('--policy <file.json>', 'a policy to replay under (repeat for each; at least one)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--json', 'print the JSON line only')
    .action(async (traceFile: string, o: { policy: string[]; json?: boolean }) => {
      const { runSimulate } = require('./simulate-main') as typeof import('./simulate-main');
      if (o.policy.length === 0) throw new InvalidArgumentError('--policy: give at least one policy file');
      process.stdout.write(runSimulate(path.resolve(traceFile), o.policy.map((p) => path.resolve(p)), fs.readFileSync, o.json === true));
    });
}
