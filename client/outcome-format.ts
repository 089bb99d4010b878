import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import type { Outcome } from '../model/types';
import { EXIT, type ExitCode } from './exit-codes';

/** How a migration ended, for people and for exit codes. */

/** Failure types the workflow uses for "ferry said no" (activities/refusal.ts, the workflow's input check). */
const REFUSAL_TYPES = ['Refused', 'InvalidInput'];

export function exitCodeFor(o: Outcome): ExitCode {
  if (o.outcome === 'completed') return EXIT.ok;
  if (o.outcome === 'rolled_back' || o.outcome === 'aborted') return EXIT.rolledBack;
  return EXIT.failed;
}

/** The innermost ApplicationFailure of a failed workflow or update (activity failures wrap it). */
export function rootFailure(err: unknown): { type: string | null; message: string } {
  let e: unknown = err;
  let app: ApplicationFailure | undefined;
  while (e instanceof Error) {
    if (e instanceof ApplicationFailure) app = e;
    e = (e as { cause?: unknown }).cause;
  }
  if (app) return { type: app.type ?? null, message: app.message };
  let last: unknown = err;
  while (last instanceof Error && last.cause instanceof Error) last = last.cause;
  return { type: null, message: last instanceof Error ? last.message : String(last) };
}

/** A workflow that failed: refused (2) when ferry said no, else failed (1). */
export function isRefusal(err: unknown): boolean {
  return err instanceof WorkflowFailedError && REFUSAL_TYPES.includes(rootFailure(err).type ?? '');
}

export function formatOutcome(o: Outcome): string {
  const mib = (b: number | null) => (b === null ? '-' : `${(b / 1048576).toFixed(0)} MiB`);
  const lines = [
    `${o.outcome}: ${o.vm?.name ?? ''} ${o.source} -> ${o.destination ?? '-'} (${o.mode}) in ${(o.totalMs / 1000).toFixed(1)} s`,
    `  downtime ${o.downtimeMs ?? '-'} ms (guest felt ${o.guestMaxStallMs ?? '-'} ms), ${mib(o.bytes)} sent, ${o.iterations ?? '-'} iterations`,
    `  source: ${o.hosts.source}; destination: ${o.hosts.destination}`,
  ];
  if (o.error) lines.push(`  error: ${o.error.message}`);
  lines.push('  decisions:');
  for (const d of o.decisions) lines.push(`    +${(d.atMs / 1000).toFixed(1)}s ${d.action}: ${d.reason}`);
  return lines.join('\n');
}
