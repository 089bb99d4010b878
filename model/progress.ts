/**
 * PURE: migration progress from job-stats samples. No I/O, no Temporal, no libvirt imports, so
 * the workflow, the CLI and tests share it.
 *
 * Progress = 100 - 100 * remaining / total, never decreasing (later iterations re-send dirtied
 * pages, which would make a naive figure run backwards), and held at 99 until the migration is
 * confirmed done: the last 1 % is the switch-over, which the numbers cannot show.
 */

export interface ProgressSample {
  /** Memory (or data) bytes to transfer in all, and still to transfer in this iteration. */
  totalBytes: number;
  remainingBytes: number;
  /** Transfer rate the job reports (bytes/s) and the guest's dirty rate (bytes/s). */
  bandwidthBps: number | null;
  dirtyBps: number | null;
  iteration: number | null;
}

export interface ProgressView {
  percent: number;
  /** Estimated time to completion in ms; null when it cannot be estimated (not converging). */
  etaMs: number | null;
  /** Downtime if QEMU switched over now: remaining bytes at the current bandwidth. */
  expectedDowntimeMs: number | null;
  converging: boolean | null;
}

export function rawPercent(sample: Pick<ProgressSample, 'totalBytes' | 'remainingBytes'>): number {
  if (!(sample.totalBytes > 0)) return 0;
  const remaining = Math.min(Math.max(sample.remainingBytes, 0), sample.totalBytes);
  return 100 - (100 * remaining) / sample.totalBytes;
}

/** The next percent to show: never below the previous one, at most 99 until `done`. */
export function monotonicPercent(previous: number, sample: ProgressSample, done = false): number {
  if (done) return 100;
  const next = Math.floor(rawPercent(sample));
  return Math.min(99, Math.max(previous, next));
}

export function progressView(previousPercent: number, sample: ProgressSample, done = false): ProgressView {
  const percent = monotonicPercent(previousPercent, sample, done);
  const bw = sample.bandwidthBps && sample.bandwidthBps > 0 ? sample.bandwidthBps : null;
  const dirty = sample.dirtyBps ?? 0;
  const expectedDowntimeMs = bw ? Math.round((1000 * sample.remainingBytes) / bw) : null;
  if (done) return { percent, etaMs: 0, expectedDowntimeMs, converging: true };
  if (!bw) return { percent, etaMs: null, expectedDowntimeMs, converging: null };
  const converging = bw > dirty;
  // Each second sends bw bytes while the guest dirties `dirty` more: the net drain rate.
  const etaMs = converging ? Math.round((1000 * sample.remainingBytes) / (bw - dirty)) : null;
  return { percent, etaMs, expectedDowntimeMs, converging };
}
