/**
 * `ferry`: the operator's commands (client/commands/migration.ts) plus whatever the composition
 * root adds (entry/ferry.ts: `ferry worker`, `ferry lab`). Light on purpose: `ferry --help` loads
 * commander and this folder's small modules only; each command loads what it needs when it runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { ferryVariablesHelp, unknownFerryVariables } from '../config/ferry-env';
import { DEFAULT_NAMESPACE as DEFAULT_TEMPORAL_NAMESPACE, LAB_TEMPORAL_ADDRESS as DEFAULT_TEMPORAL_ADDRESS } from '../config/temporal-defaults';
import { registerDrainCommands } from './commands/drain';
import { registerForecastCommand } from './commands/forecast';
import { registerMigrationCommands } from './commands/migration';
import { registerSetupCommand } from './commands/setup';
import { EXIT, EXIT_CODE_TABLE, type ExitCode } from './exit-codes';
import { FerryError, UnavailableError, UsageError } from './errors';
import { reportError, sniffOutputFormat } from './output';

/** Adds commands to the program (the composition root's worker and lab groups). */
export type CommandGroup = (program: Command) => void;

/**
 * Temporal's own settings first (shared with the `temporal` CLI), then ferry's registry of its
 * FERRY_* variables. The task queue's default is workflows/definitions.ts's TASK_QUEUE (a unit
 * test keeps them equal; importing it here would load the Temporal SDK for --help).
 */
export const CONFIG_HELP = `
Configuration (environment; the CLI needs only Temporal):
  Temporal's own, shared with the temporal CLI (the SDK's envconfig; variables win over the profile):
  TEMPORAL_ADDRESS          frontend host:port (default ${DEFAULT_TEMPORAL_ADDRESS}, the lab's)
  TEMPORAL_NAMESPACE        namespace (default "${DEFAULT_TEMPORAL_NAMESPACE}")
  TEMPORAL_API_KEY          API key (turns TLS on)
  TEMPORAL_TLS=true         TLS to the frontend; TEMPORAL_TLS_SERVER_CA_CERT_PATH, TEMPORAL_TLS_CLIENT_CERT_PATH
                            and TEMPORAL_TLS_CLIENT_KEY_PATH name PEM files (or _DATA holds them); TEMPORAL_TLS_SERVER_NAME
  TEMPORAL_PROFILE          profile of TEMPORAL_CONFIG_FILE (default "default" of ~/.config/temporalio/temporal.toml)
  ferry's own (any other FERRY_* variable is refused, exit 69):
${ferryVariablesHelp('  ', 28)}`;

export function exitCodeHelp(): string {
  return `\nExit codes:\n${EXIT_CODE_TABLE.map(([code, meaning]) => `  ${String(code).padStart(3)}  ${meaning}`).join('\n')}`;
}

/** package.json's version, found upward from here (this file may run from a compiled copy). */
export function ferryVersion(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'ferry' && pkg.version) return pkg.version;
    }
    if (path.dirname(dir) === dir) return 'unknown';
  }
}

export function buildCli(groups: CommandGroup[] = []): Command {
  const program = new Command('ferry')
    .description('Durable live migration of libvirt/QEMU virtual machines, orchestrated by Temporal')
    .version(ferryVersion(), '-V, --version', 'the version of ferry')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: () => undefined }) // reported once, in the format asked for (runCli)
    .addHelpText('after', `${exitCodeHelp()}\n${CONFIG_HELP}`)
    // Before any command runs (help and --version excepted, so the list stays readable).
    .hook('preAction', () => refuseUnknownFerryVariables(process.env));
  registerMigrationCommands(program);
  registerDrainCommands(program);
  registerForecastCommand(program);
  registerSetupCommand(program);
  for (const add of groups) add(program);
  return program;
}

/** An unknown FERRY_* variable is a bad configuration (exit 69): nothing runs with a setting ignored. */
export function refuseUnknownFerryVariables(env: NodeJS.ProcessEnv): void {
  const unknown = unknownFerryVariables(env);
  if (unknown.length > 0) throw new UnavailableError(`bad configuration: ${unknown.join('; ')}`, { problems: unknown });
}

export async function runCli(argv: string[], groups: CommandGroup[] = []): Promise<never> {
  // `ferry list | head`: a reader that leaves early is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => process.exit(err.code === 'EPIPE' ? EXIT.ok : EXIT.internal));
  let code: ExitCode | number;
  try {
    await buildCli(groups).parseAsync(argv);
    code = typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    code = reportError(await asFerryError(err), sniffOutputFormat(argv.slice(2)));
  }
  // A finished command ends the process: gRPC channels and timers of closed Temporal clients
  // must not keep it alive (or wake up later and crash it).
  process.exit(code);
}

/** Commander's and Temporal's errors as the exit codes' kinds; anything else is a bug (70). */
async function asFerryError(err: unknown): Promise<unknown> {
  if (err instanceof FerryError) return err;
  if (err instanceof CommanderError) {
    if (err.exitCode === 0) process.exit(0); // --help, --version
    if (err.code === 'commander.help') return new UsageError('no command given: ferry --help lists them', { code: err.code });
    return new UsageError(err.message.replace(/^error: /, ''), { code: err.code });
  }
  // A Temporal error no command mapped: the server answered something ferry does not expect.
  const { isGrpcServiceError, ServiceError } = require('@temporalio/client') as typeof import('@temporalio/client');
  if (isGrpcServiceError(err) || err instanceof ServiceError) {
    return new UnavailableError(`Temporal answered with an error: ${(err as Error).message}`);
  }
  return err;
}
