/**
 * The composition root of the `ferry` command (bin/ferry loads this file): the operator's
 * commands from client/, plus the commands that run on a worker or lab machine. The only place
 * that joins client/, worker/ and lab/; nothing imports it. Every group loads its heavy code
 * only when one of its commands runs, so `ferry --help` stays fast.
 */
import { runCli } from '../client/cli';
import { registerLabCommands } from '../client/commands/lab';
import { registerStackCommands } from '../client/commands/stack';
import { UnavailableError } from '../client/errors';
import { registerWorkerCommand } from '../worker/command';
import { registerSimulateCommand } from '../worker/simulate-command';
import { labFallback } from './lab-fallback';

void runCli(process.argv, [
  (program) => registerWorkerCommand(program, { fallback: labFallback, unavailable: (message) => new UnavailableError(message) }),
  registerSimulateCommand,
  registerLabCommands,
  registerStackCommands,
]);
