/**
 * PURE: what a drain's cancel means for each VM. Waiting moves (a retry waiting included) never
 * start: they are reported cancelled. Moves in flight finish on their own, or, with abortInFlight,
 * are asked to abort: the child migration's own abort rules decide whether it still may (before
 * post-copy only); one past that point finishes and is reported moved.
 */
import type { MoveState } from './progress';

export interface CancelEffect {
  /** VMs (uuids) whose move will never start. */
  cancelled: string[];
  /** VMs (uuids) whose migration in flight is asked to abort. */
  abort: string[];
}

export function cancelEffect(moves: readonly MoveState[], abortInFlight: boolean): CancelEffect {
  return {
    cancelled: moves.filter((m) => m.status === 'waiting').map((m) => m.vm.uuid),
    abort: abortInFlight ? moves.filter((m) => m.status === 'in-flight').map((m) => m.vm.uuid) : [],
  };
}

/** Marks the waiting moves cancelled, with why. */
export function applyCancel(moves: MoveState[], reason: string): void {
  for (const m of moves) {
    if (m.status !== 'waiting') continue;
    m.status = 'cancelled';
    m.retryAtMs = null;
    m.reason = m.attempts.length > 0 ? `cancelled before its retry (${reason})` : `cancelled before it started (${reason})`;
  }
}
