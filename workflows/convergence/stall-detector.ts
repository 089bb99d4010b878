import { fmtMiB, fmtSeconds } from './estimates';

/**
 * PURE: windowed stall detection, as KubeVirt's VEP 248 detector. One job: say whether pre-copy
 * still makes progress.
 *
 * It is fed ONE record per iteration boundary (the first sample of each new iteration), not one
 * per poll. Within an iteration remaining bytes fall towards zero as the pass sends the pages it
 * found dirty, then jump back up when the next pass starts with what the guest dirtied meanwhile:
 * a saw-tooth. Per-poll "did remaining drop since the last sample?" (or "was the low-water mark
 * lowered lately?") compares tops with bottoms of that saw-tooth and cries stall on healthy
 * migrations: Nova and oVirt removed their progress timeouts for exactly that ("we were sampling
 * a saw tooth wave"). The tops, taken at iteration starts, are what measure convergence: each is
 * what the guest dirtied during the previous pass.
 *
 * Verdict: stalled iff the remaining bytes at this boundary are not below (1 - margin) × the
 * minimum remaining among records older than the window. No verdict until a record has aged out
 * of the window (a migration younger than the window cannot be said to stall). Nothing left to
 * send (remaining 0) is never a stall.
 */

export interface StallConfig {
  windowMs: number;
  marginPct: number;
}

export interface StallRecord {
  atMs: number;
  /** Normalised iteration (1 = first pass). */
  iteration: number;
  remainingBytes: number;
}

export interface StallDetectorState {
  /**
   * Records still inside the window that may yet become the outside-window minimum, with strictly
   * decreasing remaining bytes: a record not below the one before it ages out later and is never
   * smaller, so it can never be that minimum. The list stays short (continue-as-new carries it).
   */
  candidates: StallRecord[];
  /** The smallest remaining among records older than the window. */
  minOutsideWindow: StallRecord | null;
  /** The last record fed, and whether it was judged stalled. */
  last: StallRecord | null;
  stalled: boolean;
  /** When the current run of stalled verdicts began. */
  stalledSinceMs: number | null;
}

export interface StallVerdict {
  stalled: boolean;
  /** null while no record is older than the window. */
  windowMin: StallRecord | null;
  thresholdBytes: number | null;
  /** Short sentence with the numbers, e.g. "remaining 212 MiB not below 96% of …". */
  explanation: string;
}

export function initialStallState(): StallDetectorState {
  return { candidates: [], minOutsideWindow: null, last: null, stalled: false, stalledSinceMs: null };
}

/** Feeds one iteration-boundary record; returns the new state and the verdict. */
export function recordIteration(
  cfg: StallConfig,
  state: StallDetectorState,
  record: StallRecord,
): { state: StallDetectorState; verdict: StallVerdict } {
  // Age out: candidates at least a window older than this record move outside the window.
  let minOutside = state.minOutsideWindow;
  const candidates = [...state.candidates];
  while (candidates.length > 0 && record.atMs - candidates[0]!.atMs >= cfg.windowMs) {
    const old = candidates.shift()!;
    if (minOutside === null || old.remainingBytes < minOutside.remainingBytes) minOutside = old;
  }
  // Keep only records that could still become the outside-window minimum.
  const last = candidates[candidates.length - 1];
  const canMatter =
    (minOutside === null || record.remainingBytes < minOutside.remainingBytes) &&
    (last === undefined || record.remainingBytes < last.remainingBytes);
  if (canMatter) candidates.push(record);

  const verdict = judge(cfg, minOutside, record);
  return {
    state: {
      candidates,
      minOutsideWindow: minOutside,
      last: record,
      stalled: verdict.stalled,
      stalledSinceMs: verdict.stalled ? (state.stalled ? state.stalledSinceMs : record.atMs) : null,
    },
    verdict,
  };
}

function judge(cfg: StallConfig, windowMin: StallRecord | null, record: StallRecord): StallVerdict {
  const window = fmtSeconds(cfg.windowMs);
  const keep = 100 - cfg.marginPct;
  if (record.remainingBytes <= 0) {
    return { stalled: false, windowMin, thresholdBytes: null, explanation: 'nothing left to send' };
  }
  if (windowMin === null) {
    return {
      stalled: false,
      windowMin,
      thresholdBytes: null,
      explanation: `remaining ${fmtMiB(record.remainingBytes)}; no stall verdict before ${window} of history`,
    };
  }
  const threshold = windowMin.remainingBytes * (1 - cfg.marginPct / 100);
  const stalled = record.remainingBytes >= threshold;
  return {
    stalled,
    windowMin,
    thresholdBytes: threshold,
    explanation:
      `remaining ${fmtMiB(record.remainingBytes)} ${stalled ? 'not below' : 'below'} ${keep}% of the minimum ` +
      `${fmtMiB(windowMin.remainingBytes)} seen over ${window} ago (iteration ${windowMin.iteration})`,
  };
}
