/**
 * The matrix's table: one line per case for people (the terminal), and the same as Markdown for
 * docs/fault-matrix.md with the machine, the date and the command that made it.
 */
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { cellId } from './cells';
import type { CaseRow } from './runner';

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function textTable(rows: CaseRow[]): string {
  const lines = rows.map((r) => [
    cellId(r.cell).padEnd(36),
    `${r.outcome}${r.mode !== '-' ? ` (${r.mode})` : ''}`.padEnd(24),
    (r.invariants.held ? 'held' : 'BROKEN').padEnd(8),
    (r.recoveredS === null ? '-' : `${r.recoveredS} s`).padStart(8),
    `  ${clip(r.story.join(' / '), 200)}`,
    ...r.invariants.violations.map((v) => `\n${' '.repeat(38)}! ${v}`),
  ].join(''));
  return [`${'fault@phase'.padEnd(36)}${'outcome'.padEnd(24)}${'invar.'.padEnd(8)}${'recovery'.padStart(8)}  story`, ...lines].join('\n');
}

const md = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function versionOf(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).split('\n')[0]!.trim();
  } catch {
    return 'unknown';
  }
}

export function markdownReport(rows: CaseRow[], command: string, startedAt: Date, finishedAt: Date): string {
  const held = rows.filter((r) => r.invariants.held).length;
  const machine = `${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}`;
  return [
    '# The fault matrix',
    '',
    `Made by \`${command}\` on ${startedAt.toISOString().slice(0, 10)}, ${Math.round((finishedAt.getTime() - startedAt.getTime()) / 60_000)} min.`,
    `Machine: ${machine}; ${versionOf('libvirtd', ['--version'])}; ${versionOf('qemu-system-x86_64', ['--version'])}; guests under TCG.`,
    '',
    `${rows.length} cases, invariants held in ${held}. Every case: a 128 MiB lab guest (with one unit of a custom`,
    'resource class in its allocation) migrates from host-a to host-b; the fault is inflicted when the migration',
    "reaches the phase (an activity held at the matrix's gate, or the state observed on the hosts); then the",
    'invariants checker (test/faults/matrix/invariants.ts): the VM runs on exactly the host its outcome names,',
    'same boot and a heartbeat that goes on, no definition or QEMU of it elsewhere, its allocation only on that',
    "host's provider with every class and amount, no migration consumer, Placement's usages overall unchanged, and",
    'an outcome that says why. "Recovery" is the time from the fault to the outcome.',
    '',
    '| fault | phase | outcome | invariants | recovery | what happened |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) =>
      `| ${r.cell.fault} | ${r.cell.phase} | ${r.outcome}${r.mode !== '-' ? ` (${r.mode})` : ''} | ${r.invariants.held ? 'held' : `**broken**: ${md(r.invariants.violations.join('; '))}`} | ${r.recoveredS === null ? '-' : `${r.recoveredS} s`} | ${md(clip(r.story.join(' / '), 400))} |`),
    '',
  ].join('\n');
}
