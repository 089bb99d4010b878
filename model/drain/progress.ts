/**
 * PURE: where a drain stands (moved / in flight / waiting / failed / cannot move), its ETA from
 * the durations of the moves so far, and the final report. The workflow keeps one MoveState per
 * VM of the host; everything the progress query and the report say is computed from them.
 */
import type { Attempt, DrainCounts, DrainPlan, DrainReport, MoveStatus, VmReport } from './schemas';

export interface MoveState {
  vm: { name: string; uuid: string };
  status: MoveStatus;
  /** Where it goes (planned, in flight), went (moved), or was headed last. */
  destination: string | null;
  attempts: Attempt[];
  /** Why it stays or waits (cannot move, failed, a limit), or null. */
  reason: string | null;
  /** When the attempt in flight started (workflow time, ms). */
  startedAtMs: number | null;
  /** A retry waits until then (workflow time, ms). */
  retryAtMs: number | null;
}

export function drainCounts(moves: readonly MoveState[]): DrainCounts {
  const n = (s: MoveStatus) => moves.filter((m) => m.status === s).length;
  return {
    total: moves.length, moved: n('moved'), inFlight: n('in-flight'), waiting: n('waiting'),
    failed: n('failed'), cannotMove: n('cannot-move'), cancelled: n('cancelled'), aborted: n('aborted'),
  };
}

/**
 * Time left: the mean duration of the moves that completed, for every waiting move and for what
 * remains of each one in flight, spread over the parallelism. Null until a move has completed.
 */
export function drainEtaMs(moves: readonly MoveState[], nowMs: number, parallelism: number): number | null {
  const done = moves.flatMap((m) => m.attempts.filter((a) => a.outcome === 'completed').map((a) => a.durationMs));
  if (done.length === 0) return null;
  const mean = done.reduce((s, x) => s + x, 0) / done.length;
  const waiting = moves.filter((m) => m.status === 'waiting').length * mean;
  const inFlight = moves
    .filter((m) => m.status === 'in-flight')
    .reduce((s, m) => s + Math.max(0, mean - (m.startedAtMs === null ? 0 : nowMs - m.startedAtMs)), 0);
  return Math.round((waiting + inFlight) / Math.max(1, parallelism));
}

export function vmReports(moves: readonly MoveState[]): VmReport[] {
  return moves.map((m) => ({ vm: m.vm, status: m.status, destination: m.destination, attempts: m.attempts, reason: m.reason }));
}

/** Nothing left to do: every VM has moved or has a final status. */
export function drainSettled(moves: readonly MoveState[]): boolean {
  return moves.every((m) => m.status !== 'waiting' && m.status !== 'in-flight');
}

export function drainResult(moves: readonly MoveState[], cancelled: boolean): DrainReport['result'] {
  if (cancelled) return 'cancelled';
  return moves.every((m) => m.status === 'moved') ? 'drained' : 'partial';
}

export function drainReport(
  plan: DrainPlan,
  moves: readonly MoveState[],
  facts: { cancelled: boolean; dryRun: boolean; totalMs: number; maintenance: string; released: string[] },
): DrainReport {
  return {
    host: plan.host,
    result: facts.dryRun ? 'dry-run' : drainResult(moves, facts.cancelled),
    plan,
    counts: drainCounts(moves),
    vms: vmReports(moves),
    totalMs: facts.totalMs,
    maintenance: facts.maintenance,
    released: facts.released,
  };
}

/** The initial state of every VM from the plan: planned moves wait, the rest cannot move. */
export function initialMoves(plan: DrainPlan): MoveState[] {
  return [
    ...plan.moves.map((p): MoveState => ({
      vm: p.vm, status: 'waiting', destination: p.destination, attempts: [], reason: null, startedAtMs: null, retryAtMs: null,
    })),
    ...plan.cannotMove.map((c): MoveState => ({
      vm: c.vm, status: 'cannot-move', destination: null, attempts: [], reason: `${c.kind}: ${c.reason}`, startedAtMs: null, retryAtMs: null,
    })),
  ];
}
