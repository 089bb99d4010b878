/**
 * DrainHost: moves every VM off a host through child LiveMigration workflows, one per VM, each
 * under the VM's own migration id (migrate-<vm uuid>), so a VM is never in two migrations (a
 * single `ferry migrate` of a VM the drain moves is refused by Temporal, and the reverse).
 *
 * Steps, each recorded as a decision:
 *   1. plan: the facts (gatherDrainFacts) and the pure plan (model/drain/plan.ts): order,
 *      destination per VM, and what cannot move and why. A dry run ends here with the plan.
 *   2. mark: the host goes into maintenance (Placement trait CUSTOM_FERRY_MAINTENANCE), so no
 *      new migration picks it as a destination until `ferry host release`.
 *   3. reserve: the room of every planned move, before the first one starts.
 *   4. drain: moves start as admission allows (model/drain/admission.ts), counting what other
 *      drains and single migrations run (visibility, activity migrationsInFlight; patch
 *      'admission-shared'); each end gives its room back, then the VM has moved, is retried
 *      elsewhere after a backoff, or is reported.
 *   5. release: whatever room is still held is given back, however the drain ends (completed,
 *      cancelled by update, or the workflow cancelled or failed): a non-cancellable `finally`.
 *
 * Capacity held for the whole drain, never counted twice: each planned move has its own
 * reservation consumer in Placement (a UUID made by the workflow) holding the VM's resources on
 * its destination. The child migration receives that consumer's id in its request
 * (`reservation`) and its claim takes the room over in the same atomic POST /allocations that
 * claims the destination for the VM (activities/placement/migration.ts): the reservation is
 * emptied as the VM's claim is written, so the room is never held twice nor free in between. The
 * child is started with destination mode 'force' (a candidate check would see the reserved room
 * as taken); the claim itself still fails when Placement has no room. When the child ends, the
 * drain releases the reservation anyway: a no-op when the claim took it over, the room given back
 * when the child ended before its claim (a pre-check refusal). A retry makes a new reservation on
 * its new destination when its turn comes.
 *
 * The host stays in maintenance when the drain ends (drained, partial or cancelled): the report
 * says so, and `ferry host release <host>` takes it out. A dry run marks and reserves nothing.
 */
import {
  ActivityFailure, ApplicationFailure, CancellationScope, condition, isCancellation, patched, workflowInfo,
} from '@temporalio/workflow';
import type { InFlightCounts } from '../model/migrations-in-flight';
import { migrationWorkflowId } from '../model/types';
import { migrationsInFlight } from './admission-proxy';
import { admit, moveBandwidth, type Candidate } from '../model/drain/admission';
import { applyCancel } from '../model/drain/cancel';
import { planDrain } from '../model/drain/plan';
import { drainReport, drainSettled, initialMoves } from '../model/drain/progress';
import { DrainRequestSchema, drainWorkflowId, type DrainReport, type DrainRequest } from '../model/drain/schemas';
import { parseWith } from '../model/types';
import { abortFromDrainSignal } from './definitions';
import { registerDrainHandlers } from './drain/handlers';
import { endAttempt, releaseReservation, reserveFor, startAttempt } from './drain/moves';
import { gatherDrainFacts, setHostMaintenance } from './drain/proxies';
import { DrainRun } from './drain/run';

export async function drainHost(input: unknown): Promise<DrainReport> {
  const req = validated(input);
  const run = new DrainRun(req, Date.now());
  registerDrainHandlers(run);
  let cancelledByTemporal = false;
  try {
    await plan(run);
    if (req.dryRun) return report(run);
    await markInMaintenance(run);
    await reserveAll(run);
    await drain(run);
  } catch (err) {
    if (!isCancellation(err)) throw err;
    cancelledByTemporal = true;
    throw err;
  } finally {
    // However the drain ends, nothing it holds stays held.
    await CancellationScope.nonCancellable(() => releaseAll(run, cancelledByTemporal));
  }
  return report(run);
}

function validated(input: unknown): DrainRequest {
  const parsed = parseWith(DrainRequestSchema, input, 'drain request');
  if (!parsed.ok) throw ApplicationFailure.nonRetryable(parsed.error, 'InvalidInput');
  const req = parsed.value;
  // One drain per host at a time: the workflow id is the host's (a dry run may run beside it).
  const expected = drainWorkflowId(req.host);
  const { workflowId } = workflowInfo();
  if (!req.dryRun && workflowId !== expected) {
    throw ApplicationFailure.nonRetryable(
      `workflow id '${workflowId}' is not this host's drain id: a drain must run as workflow id ${expected} (one drain per host at a time); start it again with --workflow-id ${expected}`,
      'InvalidInput',
    );
  }
  return req;
}

/** Step 1: the facts and the plan, recorded as the drain's first decision. */
async function plan(run: DrainRun): Promise<void> {
  run.phase = 'planning';
  const facts = await gatherDrainFacts({ host: run.req.host });
  const bandwidth = moveBandwidth(run.req.limits);
  const p = planDrain(facts, { moveBandwidthBps: bandwidth === null ? null : bandwidth * 1048576 });
  run.facts = facts;
  run.plan = p;
  run.moves = initialMoves(p);
  run.room = p.roomLeft;
  const silent = facts.unreachable.map((u) => `${u.host} (${u.error})`);
  run.decide(Date.now(), 'plan',
    `${p.moves.length} of ${facts.vms.length} VMs planned: ${p.moves.map((m) => `${m.vm.name} -> ${m.destination}`).join(', ') || 'none'}` +
      (p.cannotMove.length ? `; cannot move: ${p.cannotMove.map((c) => `${c.vm.name} (${c.kind}: ${c.reason})`).join('; ')}` : '') +
      (silent.length ? `; not answering, so no destination: ${silent.join(', ')}` : ''));
}

/** Step 2: no new migration picks the host as a destination while it is drained. */
async function markInMaintenance(run: DrainRun): Promise<void> {
  run.phase = 'marking';
  const r = await setHostMaintenance({ host: run.req.host, on: true });
  run.maintenance = 'in maintenance (Placement trait CUSTOM_FERRY_MAINTENANCE): release it with ferry host release';
  run.decide(Date.now(), 'maintenance', `${r.host} ${r.changed ? 'marked' : 'was already'} in maintenance`);
}

/** Step 3: the room of every planned move, before the first starts. A refusal is retried at the move's turn. */
async function reserveAll(run: DrainRun): Promise<void> {
  run.phase = 'reserving';
  for (const m of run.moves.filter((x) => x.status === 'waiting')) {
    if (run.cancel) break;
    const noRoom = await reserveFor(run, m.vm.uuid, m.destination!);
    run.decide(Date.now(), 'reserve', noRoom === null
      ? `room for ${m.vm.name} held on ${m.destination}`
      : `room for ${m.vm.name} on ${m.destination} not held (${noRoom}); tried again at its turn`);
  }
}

/** Step 4: start what admission allows, take ends in, until every VM has moved or stays. */
async function drain(run: DrainRun): Promise<void> {
  run.phase = 'draining';
  const hostLimits = {
    outgoing: { [run.req.host]: run.facts!.maxOutgoing },
    incoming: Object.fromEntries(run.facts!.destinations.map((d) => [d.host, d.maxIncoming])),
  };
  let lookAgainMs = FIRST_LOOK_AGAIN_MS;
  while (!drainSettled(run.moves) || run.ended.length > 0) {
    while (run.ended.length > 0) await endAttempt(run, run.ended.shift()!);
    if (run.cancel) await applyDrainCancel(run);
    const now = Date.now();
    const due = run.moves.filter((m) => m.status === 'waiting' && (m.retryAtMs ?? 0) <= now);
    const waiting: Candidate[] = due.map((m) => ({ id: m.vm.uuid, source: run.req.host, destination: m.destination! }));
    const running = run.moves.filter((m) => m.status === 'in-flight')
      .map((m) => ({ source: run.req.host, destination: m.destination!, bandwidthMiBps: run.bandwidth.get(m.vm.uuid) ?? null }));
    // Shared admission: what other drains and single migrations run counts too (runs begun before replay without it).
    const shared = waiting.length > 0 && patched('admission-shared') ? await elsewhere(run) : null;
    const admission = shared && 'unread' in shared
      ? { start: [], waiting: Object.fromEntries(waiting.map((c) => [c.id, shared.unread])) }
      : admit(waiting, running, run.req.limits, hostLimits, shared ?? undefined);
    for (const [uuid, why] of Object.entries(admission.waiting)) run.move(uuid).reason = `waiting: ${why}`;
    for (const a of admission.start) await startAttempt(run, a.id, a.bandwidthMiBps, shared ? workflowInfo().workflowId : undefined);
    if (admission.start.length > 0) lookAgainMs = FIRST_LOOK_AGAIN_MS;
    if (admission.start.length > 0 || run.ended.length > 0) continue;
    if (drainSettled(run.moves)) break;
    // Sleep until a move ends, the operator cancels, or the next retry is due; with moves held
    // back by shared admission, also until it is time to look at what runs elsewhere again.
    const retries = run.moves.filter((m) => m.status === 'waiting' && m.retryAtMs !== null && m.retryAtMs > now).map((m) => m.retryAtMs!);
    // Only what runs elsewhere can free room without this drain hearing of it: look again then.
    const heldByOthers = shared !== null && ('unread' in shared || shared.total > 0) && Object.keys(admission.waiting).length > 0;
    const wakeAt = [...retries.map((r) => r - now), ...(heldByOthers ? [lookAgainMs] : [])];
    if (heldByOthers) lookAgainMs = Math.min(lookAgainMs * 2, LONGEST_LOOK_AGAIN_MS);
    const wake = () => run.ended.length > 0 || cancelToApply(run);
    if (wakeAt.length > 0) await condition(wake, Math.max(1, Math.min(...wakeAt)));
    else await condition(wake);
  }
}

/** Shared admission looks again at what runs elsewhere after 5 s, doubling to a minute while moves wait. */
const FIRST_LOOK_AGAIN_MS = 5_000;
const LONGEST_LOOK_AGAIN_MS = 60_000;

/**
 * Every migration in flight that is not this drain's (its own moves it counts itself, with their
 * bandwidth). Visibility not answering holds every move back (nothing starts on counts not read).
 */
async function elsewhere(run: DrainRun): Promise<InFlightCounts | { unread: string }> {
  const own = run.moves.filter((m) => m.status === 'in-flight').map((m) => migrationWorkflowId(m.vm.uuid));
  try {
    return await migrationsInFlight({ excludeWorkflowIds: own });
  } catch (err) {
    if (!(err instanceof ActivityFailure) || (err.cause instanceof ApplicationFailure && err.cause.nonRetryable)) throw err;
    return { unread: `cannot count the migrations in flight elsewhere (Temporal's visibility: ${err.cause?.message ?? err.message}); looking again` };
  }
}

/** A cancel (or its abortInFlight) arrived and is not acted on yet. */
function cancelToApply(run: DrainRun): boolean {
  return run.cancel !== null && (!run.cancel.applied || (run.cancel.abortInFlight && !run.cancel.abortsSent));
}

/** The operator's cancel: waiting moves never start; in-flight ones are asked to abort if asked so. */
async function applyDrainCancel(run: DrainRun): Promise<void> {
  const cancel = run.cancel!;
  if (!cancel.applied) {
    run.phase = 'cancelling';
    const waiting = run.moves.filter((m) => m.status === 'waiting').map((m) => m.vm.uuid);
    applyCancel(run.moves, cancel.reason);
    for (const uuid of waiting) await releaseReservation(run, uuid);
    cancel.applied = true;
    run.decide(Date.now(), 'cancel', `${cancel.reason}: ${waiting.length} waiting move(s) will not start; ` +
      (cancel.abortInFlight ? 'moves in flight are asked to abort' : 'moves in flight finish'));
  }
  if (cancel.abortInFlight && !cancel.abortsSent) {
    cancel.abortsSent = true;
    for (const [uuid, child] of run.children) {
      await child.signal(abortFromDrainSignal, { reason: `the drain of ${run.req.host} was cancelled: ${cancel.reason}` });
      run.decide(Date.now(), 'abort-in-flight', `asked ${run.move(uuid).vm.name}'s migration to abort (refused, and recorded there, past the switch to post-copy)`);
    }
  }
}

/** Step 5: every reservation still held is given back. */
async function releaseAll(run: DrainRun, cancelledByTemporal: boolean): Promise<void> {
  if (run.req.dryRun) return;
  run.phase = 'releasing';
  for (const uuid of [...run.reservations.keys()]) await releaseReservation(run, uuid);
  if (cancelledByTemporal) {
    // The workflow itself was cancelled (not the drain's cancel update): nothing new starts, and
    // the moves in flight go on, abandoned by this drain, each ending by its own rules.
    for (const m of run.moves.filter((x) => x.status === 'waiting')) {
      m.status = 'cancelled';
      m.reason = 'the drain workflow was cancelled before this move started';
    }
  }
  run.phase = 'done';
}

function report(run: DrainRun): DrainReport {
  run.phase = 'done';
  return drainReport(run.plan!, run.moves, {
    cancelled: run.cancel !== null,
    dryRun: run.req.dryRun,
    totalMs: Date.now() - run.startedAtMs,
    maintenance: run.req.dryRun ? 'unchanged (dry run)' : run.maintenance,
    released: run.released,
  });
}
