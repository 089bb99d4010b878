/**
 * PURE: admission control. Given the limits and what runs now, which of the waiting moves may
 * start. Waiting moves are considered in plan order; one that must wait (its destination is full,
 * its link has no bandwidth left) does not hold back a later one that may go elsewhere.
 *
 * Limits: migrations out of the drained host, into any one host, in the whole cluster, and a
 * bandwidth budget per source->destination link. A host's own limit from the inventory lowers the
 * drain's (the stricter wins).
 */
import type { DrainLimits } from './schemas';

/** A migration that runs now (this drain's or another one's). */
export interface RunningMove {
  source: string;
  destination: string;
  /** Its bandwidth cap (MiB/s); null: uncapped. */
  bandwidthMiBps: number | null;
}

export interface Candidate {
  id: string;
  source: string;
  destination: string;
}

export interface HostLimits {
  /** maxOutgoingMigrations per host (inventory). */
  outgoing: Record<string, number | null>;
  /** maxIncomingMigrations per host (inventory). */
  incoming: Record<string, number | null>;
}

export interface Admitted {
  id: string;
  /** The bandwidth cap the move gets (MiB/s), or null: uncapped. */
  bandwidthMiBps: number | null;
}

export interface Admission {
  start: Admitted[];
  /** Why each move that may not start now waits (by id). */
  waiting: Record<string, string>;
}

/** The bandwidth a move is started with: its own cap, else the whole link budget, else none. */
export function moveBandwidth(limits: Pick<DrainLimits, 'linkBandwidthMiBps' | 'moveBandwidthMiBps'>): number | null {
  if (limits.moveBandwidthMiBps !== null) {
    return limits.linkBandwidthMiBps === null ? limits.moveBandwidthMiBps : Math.min(limits.moveBandwidthMiBps, limits.linkBandwidthMiBps);
  }
  return limits.linkBandwidthMiBps;
}

const stricter = (a: number, b: number | null | undefined) => (b === null || b === undefined ? a : Math.min(a, b));

export function admit(
  waiting: readonly Candidate[],
  running: readonly RunningMove[],
  limits: DrainLimits,
  hostLimits: HostLimits = { outgoing: {}, incoming: {} },
): Admission {
  const out = new Map<string, number>();
  const into = new Map<string, number>();
  const onLink = new Map<string, number>();
  const link = (s: string, d: string) => `${s}->${d}`;
  let total = 0;
  const count = (m: RunningMove) => {
    out.set(m.source, (out.get(m.source) ?? 0) + 1);
    into.set(m.destination, (into.get(m.destination) ?? 0) + 1);
    // An uncapped migration on a link with a budget takes the whole budget.
    const bw = m.bandwidthMiBps ?? limits.linkBandwidthMiBps ?? 0;
    onLink.set(link(m.source, m.destination), (onLink.get(link(m.source, m.destination)) ?? 0) + bw);
    total++;
  };
  running.forEach(count);

  const bandwidth = moveBandwidth(limits);
  const start: Admitted[] = [];
  const why: Record<string, string> = {};
  for (const c of waiting) {
    const maxOut = stricter(limits.maxParallel, hostLimits.outgoing[c.source]);
    const maxIn = stricter(limits.maxIntoHost, hostLimits.incoming[c.destination]);
    const used = onLink.get(link(c.source, c.destination)) ?? 0;
    if (total >= limits.maxClusterWide) why[c.id] = `cluster-wide limit: ${total} of ${limits.maxClusterWide} migrations run`;
    else if ((out.get(c.source) ?? 0) >= maxOut) why[c.id] = `limit out of ${c.source}: ${out.get(c.source)} of ${maxOut} run`;
    else if ((into.get(c.destination) ?? 0) >= maxIn) why[c.id] = `limit into ${c.destination}: ${into.get(c.destination)} of ${maxIn} run`;
    else if (limits.linkBandwidthMiBps !== null && used + (bandwidth ?? 0) > limits.linkBandwidthMiBps) {
      why[c.id] = `bandwidth budget of ${link(c.source, c.destination)}: ${used} of ${limits.linkBandwidthMiBps} MiB/s in use`;
    } else {
      start.push({ id: c.id, bandwidthMiBps: bandwidth });
      count({ source: c.source, destination: c.destination, bandwidthMiBps: bandwidth });
    }
  }
  return { start, waiting: why };
}
