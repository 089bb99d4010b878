/**
 * One move of a drain: an attempt starts (its room reserved, then the child LiveMigration under
 * the VM's own workflow id, migrate-<vm uuid>, so a VM is never in two migrations), and ends (the
 * room given back, then moved, retried on another destination after a backoff, or reported).
 */
import {
  ChildWorkflowCancellationType, ParentClosePolicy, startChild, uuid4,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { chooseFor, consume, wantedBy } from '../../model/drain/plan';
import { afterFailedAttempt } from '../../model/drain/retry';
import type { DrainVm } from '../../model/drain/schemas';
import { FerrySource, FerryVmName, FerryVmUuid } from '../../model/search-attributes';
import { migrationWorkflowId, type MigrationRequestInput, type Outcome } from '../../model/types';
import { LIVE_MIGRATION_WORKFLOW_TYPE } from '../definitions';
import { releaseRoom, reserveRoom } from './proxies';
import type { DrainRun, MoveEnd } from './run';

function vmOf(run: DrainRun, uuid: string): DrainVm {
  const vm = run.facts?.vms.find((v) => v.uuid === uuid);
  if (!vm) throw new Error(`VM ${uuid} is not among the drained host's VMs`);
  return vm;
}

/** The room for one move, held in Placement; false (and why, in the move) when there is none. */
export async function reserveFor(run: DrainRun, uuid: string, destination: string): Promise<string | null> {
  const held = run.reservations.get(uuid);
  if (held?.destination === destination) return null;
  const id = uuid4();
  try {
    await reserveRoom({ reservationId: id, vmUuid: uuid, destination, resources: wantedBy(vmOf(run, uuid)) });
    run.reservations.set(uuid, { id, destination });
    return null;
  } catch (err) {
    return rootMessage(err);
  }
}

/** Starts an attempt: room first (unless held), then the child migration. Its end lands in run.ended. */
export async function startAttempt(run: DrainRun, uuid: string, bandwidthMiBps: number | null, admittedBy?: string): Promise<void> {
  const m = run.move(uuid);
  const destination = m.destination!;
  m.status = 'in-flight';
  m.startedAtMs = Date.now();
  m.retryAtMs = null;
  m.reason = null;
  const noRoom = await reserveFor(run, uuid, destination);
  if (noRoom !== null) {
    run.ended.push({ uuid, outcome: 'refused', destination, error: `room not reserved: ${noRoom}` });
    return;
  }
  const reservation = run.reservations.get(uuid)!;
  const workflowId = migrationWorkflowId(uuid);
  const request: MigrationRequestInput = {
    vm: uuid,
    source: run.req.host,
    // Forced: the room is the reservation's, which the claim takes over (a candidate check would
    // see that room as taken). The claim still fails when Placement has no room.
    destination: { host: destination, mode: 'force' },
    reservation: reservation.id,
    requestedBy: `drain of ${run.req.host}${run.req.requestedBy ? ` by ${run.req.requestedBy}` : ''}`.slice(0, 256),
    ...(bandwidthMiBps !== null ? { bandwidthMiBps } : {}),
    // Admitted here under the shared counts: the child does not wait for admission again.
    ...(admittedBy !== undefined ? { admittedBy } : {}),
  };
  run.bandwidth.set(uuid, bandwidthMiBps);
  run.decide(Date.now(), 'start-move', `${m.vm.name} -> ${destination} as ${workflowId} (attempt ${m.attempts.length + 1}${bandwidthMiBps ? `, ${bandwidthMiBps} MiB/s` : ''})`);
  try {
    const child = await startChild<(input: unknown) => Promise<Outcome>>(LIVE_MIGRATION_WORKFLOW_TYPE, {
      workflowId,
      args: [request],
      // A migration in flight ends correctly whatever happens to the drain: never cancelled or
      // terminated with it (the drain's cancel asks it to abort through its own rules instead).
      parentClosePolicy: ParentClosePolicy.ABANDON,
      cancellationType: ChildWorkflowCancellationType.ABANDON,
      typedSearchAttributes: [
        { key: FerryVmUuid, value: uuid }, { key: FerryVmName, value: m.vm.name }, { key: FerrySource, value: run.req.host },
      ],
    });
    run.children.set(uuid, child);
    child.result().then(
      (o) => run.ended.push({ uuid, outcome: o.outcome, destination: o.destination ?? destination, error: o.error?.message ?? null }),
      (err: unknown) => run.ended.push({ uuid, outcome: 'failed', destination, error: rootMessage(err) }),
    );
  } catch (err) {
    const error = err instanceof WorkflowExecutionAlreadyStartedError
      ? `a migration of this VM is already running (${workflowId}): it is not started twice`
      : rootMessage(err);
    run.ended.push({ uuid, outcome: 'refused', destination, error });
  }
}

/** Takes in an attempt's end: the room given back, then moved, a retry elsewhere, or reported. */
export async function endAttempt(run: DrainRun, end: MoveEnd): Promise<void> {
  const m = run.move(end.uuid);
  const now = Date.now();
  m.attempts.push({ destination: end.destination, outcome: end.outcome, durationMs: Math.max(0, now - (m.startedAtMs ?? now)), error: end.error });
  m.startedAtMs = null;
  run.children.delete(end.uuid);
  run.bandwidth.delete(end.uuid);
  await releaseReservation(run, end.uuid);
  if (end.outcome === 'completed') {
    m.status = 'moved';
    m.destination = end.destination;
    run.decide(now, 'moved', `${m.vm.name} runs on ${end.destination} (attempt ${m.attempts.length})`);
    return;
  }
  const vm = vmOf(run, end.uuid);
  // The failed attempt's room is free again in the drain's own ledger.
  consume(run.room, end.destination, wantedBy(vm), -1);
  const verdict = afterFailedAttempt(run.req.retry, {
    attempts: m.attempts.length, triedDestinations: m.attempts.map((a) => a.destination),
    lastEnd: end.outcome, lastError: end.error, cancelRequested: run.cancel !== null,
  });
  if (verdict.kind === 'give-up') {
    m.status = verdict.status;
    m.reason = verdict.reason;
    run.decide(now, `move-${verdict.status}`, `${m.vm.name}: ${verdict.reason}`);
    return;
  }
  const choice = chooseFor(vm, run.facts!.destinations, run.room, verdict.exclude);
  if ('kind' in choice) {
    m.status = 'failed';
    m.reason = `attempt ${m.attempts.length} failed on ${end.destination}${end.error ? ` (${end.error})` : ''}; no retry: ${choice.reason}`;
    run.decide(now, 'move-failed', `${m.vm.name}: ${m.reason}`);
    return;
  }
  consume(run.room, choice.destination, wantedBy(vm));
  m.status = 'waiting';
  m.destination = choice.destination;
  m.retryAtMs = now + verdict.afterMs;
  m.reason = `retry on ${choice.destination} in ${Math.round(verdict.afterMs / 1000)} s: attempt ${m.attempts.length} failed on ${end.destination}${end.error ? ` (${end.error})` : ''}`;
  run.decide(now, 'retry', `${m.vm.name}: ${m.reason}`);
}

/** Gives a move's room back (a no-op in Placement when the claim took it over). */
export async function releaseReservation(run: DrainRun, uuid: string): Promise<void> {
  const held = run.reservations.get(uuid);
  if (!held) return;
  await releaseRoom({ reservationId: held.id });
  run.reservations.delete(uuid);
  run.released.push(held.id);
}

/** The innermost failure's message (a child's ApplicationFailure under its ChildWorkflowFailure, ...). */
export function rootMessage(err: unknown): string {
  let e: unknown = err;
  while (e instanceof Error && (e as Error & { cause?: unknown }).cause instanceof Error) e = (e as Error & { cause?: unknown }).cause;
  return e instanceof Error ? e.message : String(e);
}
