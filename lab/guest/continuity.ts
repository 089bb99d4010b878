import type { Heartbeat, ParsedSerial } from './serial';

/**
 * PURE: did the guest go on, after a move, from where it was? The guest's heartbeat counter lives
 * in its memory and rises by one per line; the source's log ends with the last line it printed
 * before the switch-over, the destination's begins with the first line printed there. A
 * destination that starts at or below the source's last counter, for the same boot, resumed from
 * older memory than the source had: the guest went back in time. (mergeGuestSerial drops such
 * repeated counters and so hides it; the stall meter then misses the stop as well.)
 */
export interface Continuity {
  /** The source's last counter and the destination's first; null when a side printed nothing. */
  sourceLast: number | null;
  destinationFirst: number | null;
  /** Heartbeats the destination went back: 0 when it went on (first = last + 1, or later). */
  regressedBy: number;
  /** Guest time (t_ms) between the source's last line and the destination's first. */
  gapMs: number | null;
}

function lastOf(hbs: Heartbeat[], boot: string): Heartbeat | undefined {
  return hbs.filter((h) => h.boot === boot).sort((a, b) => a.byteOffset - b.byteOffset).at(-1);
}

function firstOf(hbs: Heartbeat[], boot: string): Heartbeat | undefined {
  return hbs.filter((h) => h.boot === boot).sort((a, b) => a.byteOffset - b.byteOffset)[0];
}

/** `source` and `destination` are each host's own log, parsed separately (not merged). */
export function moveContinuity(source: ParsedSerial, destination: ParsedSerial): Continuity {
  const boot = firstOf(destination.heartbeats, destination.heartbeats[0]?.boot ?? '')?.boot;
  const last = boot ? lastOf(source.heartbeats, boot) : undefined;
  const first = boot ? firstOf(destination.heartbeats, boot) : undefined;
  if (!last || !first) return { sourceLast: last?.seq ?? null, destinationFirst: first?.seq ?? null, regressedBy: 0, gapMs: null };
  return {
    sourceLast: last.seq,
    destinationFirst: first.seq,
    regressedBy: Math.max(0, last.seq + 1 - first.seq),
    gapMs: first.tMs - last.tMs,
  };
}
