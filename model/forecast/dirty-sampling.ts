/**
 * PURE: the verdict on a guest's writes — a working set rewritten over and over, or writes
 * spreading through RAM — from one or more rounds of QEMU's page sampling (a 1 s window then a
 * 2 s one each), with how sure it is, so that the activity samples again while it is not.
 *
 * QEMU's page sampling picks DIRTYRATE_SAMPLE_PAGES_PER_GIB random pages of the guest's RAM per GiB
 * (its default, DIRTYRATE_DEFAULT_SAMPLE_PAGES; a fresh draw each calculation) and counts those whose content changed
 * within the window. On the lab's 128 MiB guests that is 64 pages: one page is 2 MiB of RAM, and
 * two windows of 64 pages each cannot tell a 16 MiB working set (8 pages dirty in both, give or take
 * 3) from writes spreading at 14 MiB/s (7 pages, then 13). The rule before (the longer window
 * seeing more than 1.3x the shorter one's bytes means spreading) flipped on that noise: a guest
 * rewriting 16 MiB read as spreading at 12 MiB/s and was forecast to converge under libvirt's
 * 300 ms; it never did (bench/results/forecast-union-2026-12-01).
 *
 * So the counts are weighed as what they are, draws of a binomial:
 * - saturated: both windows see the same fraction p of RAM dirty (the working set);
 * - spreading: fresh memory is dirtied at a steady fraction q per second, so a window of T seconds
 *   sees 1 - (1 - q)^T.
 * Each hypothesis is fitted to the pooled counts of every round (maximum likelihood); the verdict
 * is settled once one is DECISIVE times in log-likelihood above the other (about 7x likelier).
 * Until then the activity samples another round, up to its limit; a verdict still unsettled goes
 * to the likelier one (saturated on a tie: the pessimistic reading). A guest with half its RAM
 * dirty within the shorter window reads as saturated (both fit there; saturated is pessimistic).
 */
import { HOT_REWRITE_SECONDS, QUIET_BYTES, type DirtyEstimate, type DirtyReading } from './dirty-estimate';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** QEMU's default sample size (migration/dirtyrate.h, DIRTYRATE_DEFAULT_SAMPLE_PAGES): the lab's QEMU 7.2 reads a 128 MiB guest in steps of 2 MiB, 64 pages. */
export const DIRTYRATE_SAMPLE_PAGES_PER_GIB = 512;
/** A log-likelihood lead this large settles the verdict. */
export const DECISIVE = 2;

export interface SamplingRound {
  shorter: DirtyReading;
  longer: DirtyReading;
}

export interface SamplingVerdict extends DirtyEstimate {
  /** Sure enough to stop sampling. */
  settled: boolean;
  /** log-likelihood(spreading) - log-likelihood(saturated); null when not weighed. */
  leadToSpreading: number | null;
}

/** How many pages QEMU samples in a guest of this size (per calculation). */
export function samplePages(memoryBytes: number): number {
  return Math.max(1, Math.floor((memoryBytes * DIRTYRATE_SAMPLE_PAGES_PER_GIB) / GiB));
}

const clampP = (p: number) => Math.min(1 - 1e-9, Math.max(1e-9, p));
const binomialLL = (k: number, n: number, p: number) => k * Math.log(clampP(p)) + (n - k) * Math.log(clampP(1 - p));

/** The sampled pages found dirty, from the rate QEMU reports (it reports dirty pages / sampled × RAM / window). */
function dirtyPages(r: DirtyReading & { bps: number }, memoryBytes: number, n: number): number {
  return Math.min(n, Math.max(0, Math.round(((r.bps * r.seconds) / memoryBytes) * n)));
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

export function weighSampling(rounds: readonly SamplingRound[], memoryBytes: number): SamplingVerdict {
  const both = rounds.filter((r): r is { shorter: DirtyReading & { bps: number }; longer: DirtyReading & { bps: number } } => r.shorter.bps !== null && r.longer.bps !== null);
  if (both.length === 0) {
    const any = rounds.flatMap((r) => [r.longer.bps, r.shorter.bps]).filter((x): x is number => x !== null);
    return any.length === 0
      ? { dirtyBps: null, workingSetBytes: null, why: 'QEMU could not measure', settled: true, leadToSpreading: null }
      : { dirtyBps: mean(any), workingSetBytes: null, why: 'one window measured', settled: true, leadToSpreading: null };
  }
  const longerBps = mean(both.map((r) => r.longer.bps));
  const seenShort = mean(both.map((r) => r.shorter.bps * r.shorter.seconds));
  if (seenShort < QUIET_BYTES) return { dirtyBps: longerBps, workingSetBytes: null, why: 'quiet', settled: true, leadToSpreading: null };

  const n = samplePages(memoryBytes);
  const t1 = both[0]!.shorter.seconds;
  const t2 = both[0]!.longer.seconds;
  const N = n * both.length;
  const k1 = both.reduce((s, r) => s + dirtyPages(r.shorter, memoryBytes, n), 0);
  const k2 = both.reduce((s, r) => s + dirtyPages(r.longer, memoryBytes, n), 0);
  const pooled = (k1 + k2) / (2 * N);
  const saturated = (lead: number | null, settled: boolean): SamplingVerdict => {
    const workingSetBytes = Math.max(pooled * memoryBytes, 1);
    return {
      dirtyBps: Math.max(longerBps, mean(both.map((r) => r.shorter.bps)), workingSetBytes / HOT_REWRITE_SECONDS),
      workingSetBytes,
      why: `${both.length} sampling round${both.length === 1 ? '' : 's'} saw the same ${(workingSetBytes / MiB).toFixed(0)} MiB dirty in ${t1} s and in ${t2} s: a working set, taken as rewritten every ${HOT_REWRITE_SECONDS} s`,
      settled, leadToSpreading: lead,
    };
  };
  if (k1 / N >= 0.5) return saturated(null, true);

  const llSaturated = binomialLL(k1, N, pooled) + binomialLL(k2, N, pooled);
  let llSpreading = -Infinity;
  for (let i = 1; i < 1000; i += 1) {
    const q = i / 1000;
    const ll = binomialLL(k1, N, 1 - (1 - q) ** t1) + binomialLL(k2, N, 1 - (1 - q) ** t2);
    if (ll > llSpreading) llSpreading = ll;
  }
  const lead = llSpreading - llSaturated;
  if (lead > 0) {
    return {
      dirtyBps: longerBps, workingSetBytes: null, settled: lead >= DECISIVE, leadToSpreading: lead,
      why: `${both.length} sampling round${both.length === 1 ? '' : 's'} saw more memory dirty in ${t2} s than in ${t1} s (${k2} and ${k1} of ${N} sampled pages): writes spreading`,
    };
  }
  return saturated(lead, -lead >= DECISIVE);
}
