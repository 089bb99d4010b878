/**
 * PURE: the two estimates the controller explains its decisions with.
 */

/** KubeVirt's stall detector smooths memory_bps with alpha 0.4: the last ~2 s at a 400 ms poll. */
export const BANDWIDTH_EWMA_ALPHA = 0.4;

/**
 * Exponentially weighted moving average of the transfer rate (bytes/s). Seeded with the first
 * usable sample; samples without a rate (setup, between iterations) leave it unchanged.
 */
export function ewmaBandwidth(previous: number | null, sampleBps: number | null | undefined, alpha = BANDWIDTH_EWMA_ALPHA): number | null {
  if (sampleBps === null || sampleBps === undefined || !(sampleBps > 0)) return previous;
  if (previous === null) return sampleBps;
  return alpha * sampleBps + (1 - alpha) * previous;
}

/**
 * The downtime a switch-over now would cost: the remaining bytes at the transfer rate, in ms.
 * null when the rate is unknown. An overestimate mid-iteration (QEMU re-syncs the dirty bitmap
 * before it decides), which is the right side to err on for a budget check.
 */
export function impliedDowntimeMs(remainingBytes: number, bps: number | null | undefined): number | null {
  if (bps === null || bps === undefined || !(bps > 0)) return null;
  return Math.round((1000 * Math.max(0, remainingBytes)) / bps);
}

const MIB = 1024 * 1024;

/** "212 MiB" (or "1.5 MiB" below 10 MiB), for reasons people read. */
export function fmtMiB(bytes: number): string {
  const mib = bytes / MIB;
  return `${mib < 10 ? mib.toFixed(1) : Math.round(mib)} MiB`;
}

/** "40 s" / "1.5 s". */
export function fmtSeconds(ms: number): string {
  const s = ms / 1000;
  return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
}
