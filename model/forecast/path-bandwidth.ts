/**
 * PURE: which bandwidth a forecast assumes for the path, from the facts ferry has without touching
 * any host's files, in order of trust:
 * 1. the operator's `--bandwidth`: they asked for it, so it wins over anything ferry would guess;
 * 2. the inventory's link speed of both hosts (`linkMiBps`): the slower end is the path's;
 * 3. the bandwidth the recent completed migrations between the two hosts had, fitted from their
 *    times and sizes (path-history.ts).
 * None of them: the forecast is refused, naming `--bandwidth` (a guess would be a made-up answer).
 */
const MiB = 1024 * 1024;

export type BandwidthSource = 'operator' | 'inventory' | 'history';

export interface PathBandwidthFacts {
  operatorMiBps?: number | null;
  sourceLinkMiBps?: number | null;
  destinationLinkMiBps?: number | null;
  /** Fitted from the pair's recent migrations (path-history.ts). */
  historyBps?: number | null;
}

export type PathBandwidth = { bps: number; source: BandwidthSource; detail: string } | { bps: null; refusal: string };

const usable = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x) && x > 0;

export function pathBandwidth(f: PathBandwidthFacts): PathBandwidth {
  if (usable(f.operatorMiBps)) return { bps: f.operatorMiBps * MiB, source: 'operator', detail: `--bandwidth ${f.operatorMiBps} MiB/s` };
  const links = [f.sourceLinkMiBps, f.destinationLinkMiBps].filter(usable);
  if (links.length === 2) {
    const slower = Math.min(...links);
    return { bps: slower * MiB, source: 'inventory', detail: `the inventory's link speeds (the slower end: ${slower} MiB/s)` };
  }
  if (usable(f.historyBps)) {
    return { bps: f.historyBps, source: 'history', detail: `fitted from the recent completed migrations between the hosts (${(f.historyBps / MiB).toFixed(1)} MiB/s)` };
  }
  return {
    bps: null,
    refusal: "no bandwidth for this path: the inventory gives no linkMiBps for both hosts and no completed migration between them is known; give --bandwidth <MiB/s>",
  };
}
