/**
 * How commands print: a table (people) or JSON (scripts) on stdout, progress and notes on stderr,
 * and errors as `ferry: <kind>: <message>` on stderr or a JSON error object on stdout. Light: no
 * Temporal or zod import (it is loaded for `ferry --help`).
 */
import type { Command } from 'commander';
import { EXIT, EXIT_KIND, type ExitCode } from './exit-codes';
import { FerryError, UsageError } from './errors';

export type OutputFormat = 'table' | 'json';

/** `-o, --output table|json` and its alias `--json`, on every command. */
export function withOutputOptions(cmd: Command): Command {
  return cmd
    .option('-o, --output <format>', 'table (for people) or json (for scripts); errors too', 'table')
    .option('--json', 'same as --output json');
}

export function outputFormat(o: { output?: string; json?: boolean }): OutputFormat {
  if (o.json) return 'json';
  const f = o.output ?? 'table';
  if (f !== 'table' && f !== 'json') throw new UsageError(`--output must be table or json, got '${f}'`, { option: '--output', value: f });
  return f;
}

/** The format asked for on a command line, for errors found before its options were parsed. */
export function sniffOutputFormat(argv: readonly string[]): OutputFormat {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a === '--json' || a === '--output=json' || a === '-ojson') return 'json';
    if ((a === '--output' || a === '-o') && argv[i + 1] === 'json') return 'json';
  }
  return 'table';
}

export function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printText(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Columns padded to their widest cell; the last column is not padded. */
export function renderTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** Reports an error in the format asked for and returns the exit code it stands for. */
export function reportError(err: unknown, format: OutputFormat): ExitCode {
  const known = err instanceof FerryError;
  const exitCode: ExitCode = known ? err.exitCode : EXIT.internal;
  const kind = EXIT_KIND[exitCode];
  const message = err instanceof Error ? err.message : String(err);
  if (format === 'json') {
    printJson({ error: { kind, exitCode, message, ...(known ? err.details : {}) } });
  } else {
    say(`ferry: ${kind === 'internal' ? 'internal error' : kind}: ${message}`);
  }
  if (!known && err instanceof Error && err.stack) say(err.stack);
  return exitCode;
}
