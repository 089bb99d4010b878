import type { ProgressView } from '../model/progress';
import type { Progress } from '../model/types';

/** One terminal line for a running migration. Pure: the caller decides where it goes. */
export interface BarInput {
  phase: string;
  view: ProgressView;
  iteration: number | null;
  dirtyBps: number | null;
  bandwidthBps: number | null;
  width?: number;
}

const MiB = 1024 * 1024;

export function formatRate(bps: number | null): string {
  return bps === null ? '-' : `${(bps / MiB).toFixed(1)} MiB/s`;
}

export function formatDuration(ms: number | null): string {
  if (ms === null) return '--';
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

export function renderBar(input: BarInput): string {
  const width = input.width ?? 30;
  const filled = Math.round((input.view.percent / 100) * width);
  const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
  const eta = input.view.converging === false ? 'not converging' : `ETA ${formatDuration(input.view.etaMs)}`;
  return [
    `${input.phase.padEnd(10)} [${bar}] ${String(input.view.percent).padStart(3)}%`,
    eta,
    `iter ${input.iteration ?? '-'}`,
    `dirty ${formatRate(input.dirtyBps)} vs bw ${formatRate(input.bandwidthBps)}`,
    `downtime~${formatDuration(input.view.expectedDowntimeMs)}`,
  ].join('  ');
}

/** The bar of a migration's progress query answer (phase, %, ETA, iteration, rates, downtime, verdict). */
export function progressLine(p: Progress): string {
  // Waiting for admission: nothing moves yet, a bar would say nothing; the limit it waits for does.
  if (p.admissionWait) {
    return `${p.phase.padEnd(10)} waiting for admission: ${p.admissionWait.limit} (since ${p.admissionWait.since}; refused if still waiting at ${p.admissionWait.until})`;
  }
  return renderBar({
    phase: p.phase,
    view: { percent: p.percent, etaMs: p.etaMs, expectedDowntimeMs: p.expectedDowntimeMs, converging: p.verdict === 'stalled' ? false : null },
    iteration: p.iteration,
    dirtyBps: p.dirtyBps,
    bandwidthBps: p.bandwidthBps,
  }) + (p.verdict ? `  ${p.verdict}` : '')
    + (p.disk ? `  ${diskCopied(p.disk)}` : '')
    + (p.placementWait ? ` (${p.placementWait.what}, since ${p.placementWait.since}: ${p.placementWait.error})` : '')
    + (p.escalation ? `  ESCALATED (${p.escalation.reason}): ${p.escalation.why}; ferry resume-recovery once fixed` : '');
}

/** A block migration's disk copy: how much of the disks is across, at what rate. */
export function diskCopied(d: NonNullable<Progress['disk']>): string {
  return `disk ${(d.processedBytes / MiB).toFixed(0)} of ${(d.totalBytes / MiB).toFixed(0)} MiB copied at ${formatRate(d.bps)}`;
}
