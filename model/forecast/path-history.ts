/**
 * PURE: what the recent completed migrations between two hosts teach a forecast of the next one —
 * the path's fixed costs (setup and finish: starting the destination's QEMU, the handshake, the
 * switch-over, resuming the guest and tearing the source down) and, when nothing else gives it, the
 * path's bandwidth.
 *
 * Each past migration is read from its outcome (in Temporal's visibility): the job's time (the
 * `start` decision to the `job-ended` one), the bytes it sent, and the request's bandwidth limit.
 * Its time is fixed costs + bytes / the bandwidth it had, so:
 * - where the bandwidth it had is known (the request's limit when it was below the link; else the
 *   inventory's link speed), its fixed costs are its time less the transfer; a post-copy under a
 *   limit is left out (its first pass ran at the limit, the rest at the link's speed: how much of
 *   each, its outcome does not say);
 * - where it is not (no limit, no link speed), the migrations of different sizes give the slope of
 *   time over bytes: the path's bandwidth (Theil-Sen: the median of the pairwise slopes, so one
 *   odd migration does not tilt it), then each one's fixed costs as above.
 * The fixed costs taken are the median over the migrations (an odd one, e.g. a post-copy whose
 * page requests waited, moves the median little), never below zero.
 *
 * Why learn them: the lab's traces gave 2.5 s (LAB_TIMING); on the same hosts a day later a guest
 * with nothing to send moved in 1.5-2.5 s, and every small guest's forecast was 0.6-1 s too long.
 * A host pair's own recent migrations measure what that pair costs today.
 */
import { z } from 'zod';
import { LAB_TIMING, type SimTiming } from '../sim/dirty-page-model';
import { pathBandwidth, type PathBandwidth } from './path-bandwidth';

const MiB = 1024 * 1024;

/** How many of the pair's most recent completed migrations a forecast reads. */
export const PAST_MIGRATIONS_READ = 10;
/** Two migrations whose sizes differ by less than this say nothing about the bandwidth. */
const SIZE_SPREAD_BYTES = 16 * MiB;

export const PastMigrationSchema = z.object({
  workflowId: z.string(),
  /** The migration job's time: its `start` decision to its `job-ended` one (ms). */
  jobMs: z.number().nonnegative(),
  bytes: z.number().nonnegative(),
  /** The request's bandwidth limit (bytes/s), null when none. */
  limitBps: z.number().positive().nullable(),
  mode: z.enum(['precopy', 'postcopy']),
});
export type PastMigration = z.infer<typeof PastMigrationSchema>;

/** The fields of a LiveMigration's outcome and request this reads (model/types.ts OutcomeSchema). */
export interface PastOutcome {
  migrationId: string;
  outcome: string;
  mode: string;
  bytes: number | null;
  decisions: ReadonlyArray<{ atMs: number; action: string }>;
}

/** One completed migration's facts, or null when its outcome does not tell its job's time. */
export function pastMigration(workflowId: string, o: PastOutcome, limitMiBps: number | null): PastMigration | null {
  if (o.outcome !== 'completed' || o.bytes === null) return null;
  const start = o.decisions.find((d) => d.action === 'start');
  const ended = o.decisions.find((d) => d.action === 'job-ended');
  if (!start || !ended || ended.atMs < start.atMs) return null;
  return {
    workflowId, jobMs: ended.atMs - start.atMs, bytes: o.bytes,
    limitBps: limitMiBps !== null && limitMiBps > 0 ? limitMiBps * MiB : null,
    mode: o.mode === 'postcopy' ? 'postcopy' : 'precopy',
  };
}

export interface PathHistoryFit {
  /** Setup + finish (ms), learned. */
  fixedMs: number;
  /** The path's bandwidth (bytes/s) fitted from migrations without a known one; null when not fitted. */
  fittedBps: number | null;
  /** How many past migrations the fixed costs come from. */
  n: number;
  detail: string;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Theil-Sen: bytes/s from the median slope of time over bytes; null without two sizes apart. */
function fittedBandwidth(ms: readonly PastMigration[]): number | null {
  const slopes: number[] = [];
  for (let i = 0; i < ms.length; i += 1) {
    for (let j = i + 1; j < ms.length; j += 1) {
      const db = ms[j]!.bytes - ms[i]!.bytes;
      if (Math.abs(db) < SIZE_SPREAD_BYTES) continue;
      slopes.push((ms[j]!.jobMs - ms[i]!.jobMs) / db); // ms per byte
    }
  }
  if (slopes.length === 0) return null;
  const slope = median(slopes);
  return slope > 0 ? 1000 / slope : null;
}

/**
 * `linkBps`: the link's speed as the inventory gives it, null when unknown (an operator's
 * `--bandwidth` for a forecast is an assumption about the next move, not a fact about the past ones).
 * null: no past migration to learn from.
 */
export function fitPathHistory(past: readonly PastMigration[], linkBps: number | null): PathHistoryFit | null {
  // A post-copy under a limit ran its first pass at the limit and the rest at the link's speed:
  // how much of each, its outcome does not say, so it teaches nothing here.
  const readable = past.filter((m) => !(m.mode === 'postcopy' && m.limitBps !== null));
  if (readable.length === 0) return null;
  // The bandwidth each had: its limit when below the link (pre-copy holds to it), else the link.
  const known = (m: PastMigration): number | null => (m.limitBps !== null && (linkBps === null || m.limitBps < linkBps) ? m.limitBps : linkBps);
  const unknown = readable.filter((m) => known(m) === null);
  const fittedBps = unknown.length >= 2 ? fittedBandwidth(unknown) : null;
  const fixed = readable
    .map((m) => ({ m, bps: known(m) ?? fittedBps }))
    .filter((x): x is { m: PastMigration; bps: number } => x.bps !== null)
    .map(({ m, bps }) => Math.max(0, m.jobMs - (m.bytes / bps) * 1000));
  if (fixed.length === 0) return null;
  const fixedMs = Math.round(median(fixed));
  const bw = fittedBps !== null ? `, the path fitted at ${(fittedBps / MiB).toFixed(1)} MiB/s` : '';
  return {
    fixedMs, fittedBps, n: fixed.length,
    detail: `fixed costs ${(fixedMs / 1000).toFixed(1)} s, the median of the last ${fixed.length} completed migration${fixed.length === 1 ? '' : 's'} between the hosts${bw}`,
  };
}

/** The model's timing with the learned fixed costs, split between setup and finish as on the lab. */
export function timingFromFixed(fixedMs: number): SimTiming {
  const lab = LAB_TIMING.setupMs + LAB_TIMING.finishMs;
  const setupMs = Math.round((fixedMs * LAB_TIMING.setupMs) / lab);
  return { ...LAB_TIMING, setupMs, finishMs: fixedMs - setupMs };
}

export interface FixedCosts {
  ms: number;
  source: 'lab-default' | 'history';
  detail: string;
  /** The dirty-page model's timing with them. */
  timing: SimTiming;
}

/** The fixed costs a forecast assumes: the pair's learned ones, else the lab's. */
export function fixedCosts(fit: PathHistoryFit | null): FixedCosts {
  if (fit === null) {
    const ms = LAB_TIMING.setupMs + LAB_TIMING.finishMs;
    return { ms, source: 'lab-default', detail: `fixed costs ${(ms / 1000).toFixed(1)} s, the lab's (no completed migration between the hosts to learn from)`, timing: LAB_TIMING };
  }
  return { ms: fit.fixedMs, source: 'history', detail: fit.detail, timing: timingFromFixed(fit.fixedMs) };
}

/**
 * The path a forecast assumes, from the host's facts: its fixed costs learned from the pair's past
 * migrations (read at the inventory's link speed: an operator's `--bandwidth` is an assumption
 * about the next move, not a fact about the past ones), and its bandwidth (the operator's, else the
 * inventory's, else fitted from those migrations; pathBandwidth).
 */
export function pathFromFacts(f: { operatorMiBps?: number | null; sourceLinkMiBps: number | null; destinationLinkMiBps: number | null; pastMigrations?: readonly PastMigration[] }): { bandwidth: PathBandwidth; fixed: FixedCosts } {
  const links = { sourceLinkMiBps: f.sourceLinkMiBps, destinationLinkMiBps: f.destinationLinkMiBps };
  const fit = fitPathHistory(f.pastMigrations ?? [], pathBandwidth(links).bps);
  return { bandwidth: pathBandwidth({ operatorMiBps: f.operatorMiBps ?? null, ...links, historyBps: fit?.fittedBps ?? null }), fixed: fixedCosts(fit) };
}
