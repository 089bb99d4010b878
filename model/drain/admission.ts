/**
 * PURE: admission control. Given the limits and what runs now, which of the waiting moves may
 * start. Waiting moves are considered in plan order; one that must wait (its destination is full,
 * its link has no bandwidth left) does not hold back a later one that may go elsewhere.
 *
 * Limits: migrations out of the drained host, into any one host, in the whole cluster, and a
 * bandwidth budget per source->destination link. A host's own limit from the inventory lowers the
 * drain's (the stricter wins).
 *
 * Shared: what runs elsewhere (other drains, single migrations: model/migrations-in-flight.ts,
 * read from Temporal's visibility) counts against the same limits as the caller's own moves. A
 * single migration asks the same question for its one move (`mayStart`). Another migration on a
 * link with a budget counts as taking the whole budget (its cap is not in visibility).
 */
import { linkOf, NOTHING_IN_FLIGHT, type InFlightCounts } from '../migrations-in-flight';
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

/** The limit a move waits for. */
export type AdmissionLimit = 'cluster-wide' | 'out-of-host' | 'into-host' | 'link-bandwidth';

export interface Admission {
  start: Admitted[];
  /** Why each move that may not start now waits (by id): names the limit and the counts. */
  waiting: Record<string, string>;
  /** Which limit each waiting move waits for (by id). */
  limitOf: Record<string, AdmissionLimit>;
}

/** The limits that apply to one move (model/convergence-policy.ts's admission for a single migration). */
export type AdmissionLimits = Pick<DrainLimits, 'maxParallel' | 'maxIntoHost' | 'maxClusterWide' | 'linkBandwidthMiBps' | 'moveBandwidthMiBps'>;

/** The bandwidth a move is started with: its own cap, else the whole link budget, else none. */
export function moveBandwidth(limits: Pick<DrainLimits, 'linkBandwidthMiBps' | 'moveBandwidthMiBps'>): number | null {
  if (limits.moveBandwidthMiBps !== null) {
    return limits.linkBandwidthMiBps === null ? limits.moveBandwidthMiBps : Math.min(limits.moveBandwidthMiBps, limits.linkBandwidthMiBps);
  }
  return limits.linkBandwidthMiBps;
}

const stricter = (a: number, b: number | null | undefined) => (b === null || b === undefined ? a : Math.min(a, b));

/**
 * `running`: the caller's own moves in flight (with their bandwidth); `elsewhere`: every other
 * migration in flight, counted from visibility (the caller's own left out, so none counts twice).
 */
export function admit(
  waiting: readonly Candidate[],
  running: readonly RunningMove[],
  limits: AdmissionLimits,
  hostLimits: HostLimits = { outgoing: {}, incoming: {} },
  elsewhere: InFlightCounts = NOTHING_IN_FLIGHT,
): Admission {
  return decide(waiting, running, limits, hostLimits, elsewhere, true);
}

/** `nameOthers`: a reason says how many of the migrations counted are not the caller's own. */
function decide(
  waiting: readonly Candidate[],
  running: readonly RunningMove[],
  limits: AdmissionLimits,
  hostLimits: HostLimits,
  elsewhere: InFlightCounts,
  nameOthers: boolean,
): Admission {
  const out = new Map<string, number>(Object.entries(elsewhere.outOf));
  const into = new Map<string, number>(Object.entries(elsewhere.into));
  // Another migration on a budgeted link counts as taking the whole budget (its cap is unknown).
  const onLink = new Map<string, number>(Object.entries(elsewhere.onLink).map(([l, n]) => [l, n * (limits.linkBandwidthMiBps ?? 0)]));
  const link = linkOf;
  let total = elsewhere.total;
  const count = (m: RunningMove) => {
    out.set(m.source, (out.get(m.source) ?? 0) + 1);
    into.set(m.destination, (into.get(m.destination) ?? 0) + 1);
    // An uncapped migration on a link with a budget takes the whole budget.
    const bw = m.bandwidthMiBps ?? limits.linkBandwidthMiBps ?? 0;
    onLink.set(link(m.source, m.destination), (onLink.get(link(m.source, m.destination)) ?? 0) + bw);
    total++;
  };
  running.forEach(count);
  // A drain's operator sees which part of a full limit is not the drain's own.
  const ofThem = (others: number | undefined) => (nameOthers && others ? ` (${others} of them by other drains or migrations)` : '');

  const bandwidth = moveBandwidth(limits);
  const start: Admitted[] = [];
  const why: Record<string, string> = {};
  const limitOf: Record<string, AdmissionLimit> = {};
  const wait = (id: string, limit: AdmissionLimit, reason: string) => { why[id] = reason; limitOf[id] = limit; };
  for (const c of waiting) {
    const maxOut = stricter(limits.maxParallel, hostLimits.outgoing[c.source]);
    const maxIn = stricter(limits.maxIntoHost, hostLimits.incoming[c.destination]);
    const used = onLink.get(link(c.source, c.destination)) ?? 0;
    const nOut = out.get(c.source) ?? 0;
    const nIn = into.get(c.destination) ?? 0;
    if (total >= limits.maxClusterWide) {
      wait(c.id, 'cluster-wide', `cluster-wide limit: ${total} of ${limits.maxClusterWide} migrations run${ofThem(elsewhere.total)}`);
    } else if (nOut >= maxOut) {
      wait(c.id, 'out-of-host', `limit out of ${c.source}: ${nOut} of ${maxOut} run${ofThem(elsewhere.outOf[c.source])}`);
    } else if (nIn >= maxIn) {
      wait(c.id, 'into-host', `limit into ${c.destination}: ${nIn} of ${maxIn} run${ofThem(elsewhere.into[c.destination])}`);
    } else if (limits.linkBandwidthMiBps !== null && used + (bandwidth ?? 0) > limits.linkBandwidthMiBps) {
      wait(c.id, 'link-bandwidth', `bandwidth budget of ${link(c.source, c.destination)}: ${used} of ${limits.linkBandwidthMiBps} MiB/s in use`);
    } else {
      start.push({ id: c.id, bandwidthMiBps: bandwidth });
      count({ source: c.source, destination: c.destination, bandwidthMiBps: bandwidth });
    }
  }
  return { start, waiting: why, limitOf };
}

/** A single migration's admission: it may start now, or it waits for the limit named. */
export type SingleAdmission = { admitted: true } | { admitted: false; limit: AdmissionLimit; reason: string };

/**
 * May one migration (source -> destination) start now, with `elsewhere` in flight? The limits are
 * the caller's (a single migration's policy); each host's inventory limit lowers them
 * (`elsewhere.hostLimits`). The same rules as a drain's moves (admit), for one move.
 */
export function mayStart(move: { source: string; destination: string }, elsewhere: InFlightCounts, limits: AdmissionLimits): SingleAdmission {
  const hostLimits: HostLimits = {
    outgoing: Object.fromEntries(Object.entries(elsewhere.hostLimits).map(([h, l]) => [h, l.maxOutgoing])),
    incoming: Object.fromEntries(Object.entries(elsewhere.hostLimits).map(([h, l]) => [h, l.maxIncoming])),
  };
  // Everything counted is another migration: the reason need not say so.
  const a = decide([{ id: 'this', ...move }], [], limits, hostLimits, elsewhere, false);
  if (a.start.length === 1) return { admitted: true };
  return { admitted: false, limit: a.limitOf.this!, reason: a.waiting.this! };
}
