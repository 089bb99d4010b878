import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import type { Outcome } from '../model/types';

/** How a migration ended, for people and for exit codes. */

export const EXIT = { completed: 0, failed: 1, refused: 2, rolledBack: 3 } as const;

export function exitCodeFor(o: Outcome): number {
  if (o.outcome === 'completed') return EXIT.completed;
  if (o.outcome === 'rolled_back' || o.outcome === 'aborted') return EXIT.rolledBack;
  return EXIT.failed;
}

/** The innermost ApplicationFailure of a failed workflow (activity failures wrap it). */
export function rootFailure(err: unknown): { type: string | null; message: string } {
  let e: unknown = err;
  let app: ApplicationFailure | undefined;
  while (e instanceof Error) {
    if (e instanceof ApplicationFailure) app = e;
    e = (e as { cause?: unknown }).cause;
  }
  if (app) return { type: app.type ?? null, message: app.message };
  return { type: null, message: err instanceof Error ? err.message : String(err) };
}

export function exitCodeForError(err: unknown): number {
  if (!(err instanceof WorkflowFailedError)) return EXIT.failed;
  const t = rootFailure(err).type;
  return t === 'Refused' || t === 'InvalidInput' ? EXIT.refused : EXIT.failed;
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
