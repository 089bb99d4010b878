/**
 * PURE: the dirty rate and working set a forecast assumes, from two readings of QEMU's page
 * sampling over different windows (activities/forecast-facts.ts takes them one after the other).
 * The forecast weighs its rounds of readings as binomial draws when it knows the guest's size
 * (dirty-sampling.ts); this two-window rule is what it falls back to when it does not.
 *
 * Page sampling reports (sampled pages whose content changed) / (pages sampled) × RAM / window: it
 * counts each page once however often it was written, so a guest that rewrites a small working
 * set faster than the window reads as (working set / window) — the longer the window, the lower
 * the rate. Two windows tell the cases apart:
 * - the longer window saw hardly more memory dirtied than the shorter one (at most SATURATED ×):
 *   the guest rewrote the same pages; what the longer window saw is its working set. How fast it
 *   rewrites it the sampling cannot say (it saw the whole set dirty within the shorter window:
 *   once, or a hundred times). The forecast takes the pessimistic bound, as it does for an unknown
 *   working set: a set rewritten every HOT_REWRITE_SECONDS, so that every pass finds all of it
 *   dirty again and pre-copy converges only if the whole set fits the max downtime. On the lab a
 *   guest rewriting 30 MiB "as fast as it can" read as 28 MiB/s; taken at that rate, the forecast
 *   said pre-copy converges in 8.5 s over a 32 MiB/s path; it ran 196 passes and never did;
 * - it saw more: the guest spreads its writes; the longer window's rate (the less noisy) stands,
 *   the working set is unknown (the forecast then assumes all of RAM: the pessimistic bound).
 * A quiet guest (under QUIET_BYTES seen in the shorter window) is just its rate: the sampling is
 * too coarse (QEMU samples 512 pages per GiB) for a working set to mean anything there.
 */
export interface DirtyReading {
  seconds: number;
  /** Bytes/s QEMU reported; null when it could not measure. */
  bps: number | null;
}

export interface DirtyEstimate {
  dirtyBps: number | null;
  workingSetBytes: number | null;
  why: string;
}

/** The longer window saw at most this times the shorter window's bytes: the same pages again. */
export const SATURATED = 1.3;
/** A saturated working set is taken as rewritten this often (the rate is working set / this). */
export const HOT_REWRITE_SECONDS = 0.1;
export const QUIET_BYTES = 4 * 1024 * 1024;
const MiB = 1024 * 1024;

export function estimateDirtying(shorter: DirtyReading, longer: DirtyReading): DirtyEstimate {
  if (shorter.bps === null && longer.bps === null) return { dirtyBps: null, workingSetBytes: null, why: 'QEMU could not measure' };
  if (shorter.bps === null || longer.bps === null) {
    const one = (shorter.bps ?? longer.bps)!;
    return { dirtyBps: one, workingSetBytes: null, why: 'one window measured' };
  }
  const seenShort = shorter.bps * shorter.seconds;
  const seenLong = longer.bps * longer.seconds;
  if (seenShort < QUIET_BYTES) return { dirtyBps: longer.bps, workingSetBytes: null, why: 'quiet' };
  if (seenLong <= SATURATED * seenShort) {
    const workingSetBytes = Math.max(seenShort, seenLong);
    return {
      dirtyBps: Math.max(shorter.bps, longer.bps, workingSetBytes / HOT_REWRITE_SECONDS),
      workingSetBytes,
      why: `the same ${(workingSetBytes / MiB).toFixed(0)} MiB rewritten in ${shorter.seconds} s and in ${longer.seconds} s: a working set, taken as rewritten every ${HOT_REWRITE_SECONDS} s`,
    };
  }
  return { dirtyBps: longer.bps, workingSetBytes: null, why: 'writes spread over more memory with time' };
}
