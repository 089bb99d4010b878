/**
 * What a DrainHost run carries: the validated request, the facts and the plan, one MoveState per
 * VM, the room left on each destination, the reservations held, the cancel, and the decisions.
 * Deterministic: the workflow passes the clock in.
 */
import type { ChildWorkflowHandle } from '@temporalio/workflow';
import type { Room } from '../../model/drain/plan';
import type { MoveState } from '../../model/drain/progress';
import type { DrainFacts, DrainPlan, DrainRequest } from '../../model/drain/schemas';

export type DrainPhase = 'planning' | 'marking' | 'reserving' | 'draining' | 'cancelling' | 'releasing' | 'done';

export interface Reservation {
  id: string;
  destination: string;
}

/** A move's end as the child migration reported it. */
export interface MoveEnd {
  uuid: string;
  outcome: 'completed' | 'failed' | 'aborted' | 'rolled_back' | 'refused';
  destination: string;
  error: string | null;
}

export interface DrainDecision {
  atMs: number;
  action: string;
  reason: string;
}

export class DrainRun {
  phase: DrainPhase = 'planning';
  facts: DrainFacts | null = null;
  plan: DrainPlan | null = null;
  moves: MoveState[] = [];
  room: Room = {};
  /** Held room by VM uuid: made before the first move starts, released as each move ends. */
  readonly reservations = new Map<string, Reservation>();
  /** Every reservation released, for the report (what the drain gave back). */
  readonly released: string[] = [];
  /** Moves that ended, waiting for the loop to take them in. */
  readonly ended: MoveEnd[] = [];
  /** The child migration of each move in flight, by VM uuid (the abort signal goes there). */
  readonly children = new Map<string, ChildWorkflowHandle<(input: unknown) => Promise<unknown>>>();
  /** Bandwidth each move in flight was started with (MiB/s), by VM uuid. */
  readonly bandwidth = new Map<string, number | null>();
  cancel: { reason: string; abortInFlight: boolean; applied: boolean; abortsSent: boolean } | null = null;
  readonly decisions: DrainDecision[] = [];
  maintenance = 'not marked';

  constructor(readonly req: DrainRequest, readonly startedAtMs: number) {}

  decide(nowMs: number, action: string, reason: string): void {
    this.decisions.push({ atMs: Math.max(0, nowMs - this.startedAtMs), action, reason });
  }

  move(uuid: string): MoveState {
    const m = this.moves.find((x) => x.vm.uuid === uuid);
    if (!m) throw new Error(`no move of VM ${uuid} in this drain`);
    return m;
  }
}
