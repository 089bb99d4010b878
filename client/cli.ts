import { Command, CommanderError } from 'commander';
import { registerLabCommands } from './commands/lab';
import { registerMigrationCommands } from './commands/migration';

/** `ferry`: one CLI for operators; each command group lives in client/commands/. */
export function buildCli(): Command {
  const program = new Command('ferry')
    .description('Durable live migration of libvirt/QEMU virtual machines, orchestrated by Temporal')
    .showHelpAfterError()
    .exitOverride();
  registerMigrationCommands(program);
  registerLabCommands(program);
  return program;
}

export async function runCli(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
    } else {
      process.stderr.write(`ferry: ${(err as Error).message}\n`);
      process.exitCode = 1;
    }
  }
  // A finished command ends the process: gRPC channels and timers of closed Temporal clients
  // must not keep it alive (or wake up later and crash it).
  process.exit(process.exitCode ?? 0);
}
