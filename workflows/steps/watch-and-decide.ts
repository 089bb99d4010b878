import { log, patched, sleep, workflowInfo } from '@temporalio/workflow';
import type { MigrationSample } from '../../model/activity-contract';
import type { Phase } from '../../model/types';
import { classifySituation } from '../../model/situation';
import { classifySituationV1 } from '../../model/situation-v1';
import { applyAction, watchMigration } from '../activity-proxies';
import { decide } from '../convergence';
import { countEscalation } from '../metrics';
import { blockMigrationCopies, continueFlight, enterPhase, showEscalation, type Migration, type MigrationInFlight } from '../migration-state';
import { NO_ABORT_PHASES } from '../operator-handlers';
import { recover } from './recover';

/** How the watch ended: the guest switched to the destination, or the migration ended on the source. */
export type Ended =
  | { kind: 'switched' }
  /** `error`: what ended it, for the outcome (a message, or the failure itself). */
  | { kind: 'ended-on-source'; why: 'operator' | 'controller' | 'failed'; error?: unknown };

/** Watch rounds before the history is cut with continue-as-new (a few events each). */
const ROUNDS_BEFORE_CONTINUE_AS_NEW = 200;
const WATCH_MAX_WAIT_MS = 2_000;
/** Pause before observing again when the job has ended but the hosts do not tell a final story yet. */
const SETTLE_OBSERVE_MS = 1_000;
const ESCALATED_OBSERVE_MS = 15_000;
/** A switch-over that has not settled after this long is escalated (still observed, never guessed). */
const SWITCHOVER_PATIENCE_MS = 120_000;

/**
 * Step 5: watch the job and decide. Each round the watch activity returns at a decision point;
 * the convergence controller (pure) turns the sample into actions, which are applied and recorded
 * with the numbers behind them. When the job ends, the situation table (pure) says where the
 * guest is. History stays bounded: after a number of rounds the flight continues as new.
 */
export async function watchAndDecide(m: Migration, flight: MigrationInFlight): Promise<Ended> {
  let lastMode: MigrationSample['mode'] = m.controller.phase === 'postcopy' ? 'postcopy' : m.controller.phase === 'paused' ? 'paused' : 'setup';
  const memo: EndMemo = { lastRecorded: null, settlingSinceMs: null };
  // A run continued while its post-copy recovery waited for an operator goes straight back to it.
  if (flight.recovery) await recover(m, flight, null);
  for (let round = 0; ; round++) {
    if (round >= ROUNDS_BEFORE_CONTINUE_AS_NEW && m.rec.phase !== 'post-copy' && m.rec.phase !== 'recovering') {
      await continueFlight(m, flight);
    }
    // Before the guard, an operator's abort was its own path at the top of the round; runs begun
    // then replay it. Now it is an input to the round's decision (decideAndAct).
    if (!patched('abort-in-decision') && m.rec.abortRequested && !NO_ABORT_PHASES.includes(m.rec.phase)) {
      await applyAction({ vm: flight.vm, source: flight.source, destination: flight.destination, action: flight.pausedByUs ? { kind: 'resume-and-abort' } : { kind: 'abort' } });
      m.rec.decide(Date.now(), 'abort', `operator: ${m.rec.abortRequested.reason}`);
      return { kind: 'ended-on-source', why: 'operator' };
    }
    const s: MigrationSample = await watchMigration({
      vm: flight.vm, source: flight.source, destination: flight.destination, maxWaitMs: WATCH_MAX_WAIT_MS,
      lastIteration: flight.lastIteration, lastMode,
    });
    if (s.postcopyFailed) {
      await recover(m, flight, s);
      continue;
    }
    if (s.job === 'ended') {
      const ended = await afterTheJob(m, s, memo);
      if (ended) return ended;
      continue;
    }
    const ended = await decideAndAct(m, flight, s);
    if (ended) return ended;
    flight.lastIteration = s.iteration;
    lastMode = s.mode;
  }
}

/**
 * A picture no machine should resolve (the VM on neither host, on both, a switch-over that does not
 * settle) is shown as phase 'escalated' with the situation as its reason, as a broken recovery is;
 * it was recorded as a decision only, and the phase kept saying 'pre-copy' (the fault matrix found
 * a migration observing a VM deleted under it for minutes that way). Once the picture clears, the
 * phase is what it was and the escalation is gone.
 */
function showOrClearEscalation(m: Migration, where: { situation: string; next: string; explanation: string }, memo: EndMemo): void {
  if (where.next === 'escalate') {
    if (m.rec.phase !== 'escalated') memo.phaseBeforeEscalation = m.rec.phase;
    showEscalation(m, where.situation, where.explanation);
    countEscalation('situation');
    log.error('ferry: a migration needs an operator (both hosts observed, nothing destroyed)', {
      workflowId: workflowInfo().workflowId, situation: where.situation, why: where.explanation,
    });
  } else if (m.rec.phase === 'escalated' && memo.phaseBeforeEscalation) {
    enterPhase(m, memo.phaseBeforeEscalation);
    m.rec.progress = { ...m.rec.progress, escalation: null };
    memo.phaseBeforeEscalation = null;
  }
}

/** What the end-of-job observations remember from round to round. */
interface EndMemo {
  /** The phase before the watch escalated (restored when the picture clears). */
  phaseBeforeEscalation?: Phase | null;
  /** The last situation recorded (each is recorded once, and so is an escalation). */
  lastRecorded: string | null;
  /** Since when the switch-over has been settling. */
  settlingSinceMs: number | null;
}

/**
 * The job ended: where is the guest? The situation table over both hosts' views and the source's
 * job record decides between finishing, rolling back and observing again (a switch-over still
 * settling, a host not answering, or a state no machine should resolve: never guess). Runs
 * started before the table replay through the frozen classifier their history was decided with:
 * a deploy must not change a decision already taken.
 */
async function afterTheJob(m: Migration, s: MigrationSample, memo: EndMemo): Promise<Ended | undefined> {
  const table = patched('situation-table-v2');
  let where = table ? classifySituation(s.source, s.destination) : classifySituationV1(s.source, s.destination);
  memo.settlingSinceMs = where.next === 'wait-then-read-completed-stats' ? memo.settlingSinceMs ?? Date.now() : null;
  if (table && memo.settlingSinceMs !== null && Date.now() - memo.settlingSinceMs > SWITCHOVER_PATIENCE_MS) {
    where = { ...where, next: 'escalate', explanation: `${where.explanation}; unsettled for over ${SWITCHOVER_PATIENCE_MS / 1000} s: an operator should look (ferry keeps observing)` };
  }
  const key = `${where.situation}/${where.next === 'escalate' ? 'escalate' : 'observe'}`;
  if (key !== memo.lastRecorded) {
    m.rec.decide(Date.now(), where.next === 'escalate' ? 'escalate' : 'job-ended', where.explanation, { situation: where.situation });
    if (patched('watch-escalation-visible')) showOrClearEscalation(m, where, memo);
  }
  memo.lastRecorded = key;
  if (where.next === 'finish' || where.next === 'finish-on-source') return { kind: 'switched' };
  if (where.next === 'roll-back') {
    const libvirtSaid = s.jobError ? `; libvirt: ${s.jobError}` : '';
    return { kind: 'ended-on-source', why: m.controller.phase === 'aborting' ? 'controller' : 'failed', error: `${where.explanation}${libvirtSaid}` };
  }
  await sleep(where.next === 'escalate' ? ESCALATED_OBSERVE_MS : SETTLE_OBSERVE_MS);
  return undefined;
}

/** One decision of the convergence controller on a sample of a running job, applied and recorded. */
async function decideAndAct(m: Migration, flight: MigrationInFlight, s: MigrationSample): Promise<Ended | undefined> {
  const operator = m.rec.takeOperatorInput();
  const abort = patched('abort-in-decision') ? m.rec.takeAbort() : null;
  // Block migration: the copied disks count in the completion budget and the progress's total.
  const copies = blockMigrationCopies(flight);
  const diskCopyBytes = copies.reduce((sum, c) => sum + c.capacityBytes, 0);
  const d = decide(m.policy, m.controller, {
    atMs: Date.now() - m.rec.startedAtMs, iteration: s.iteration ?? 0, dataTotal: s.dataTotal, dataRemaining: s.dataRemaining,
    dataProcessed: s.dataProcessed, memoryBps: s.memoryBps ?? 0, dirtyBps: s.dirtyBps ?? 0, mode: s.mode,
    memoryMiB: flight.vm.memoryMiB, postcopyEligible: m.postcopyEligible, operator: abort ? { ...operator, abort } : operator,
    ...(copies.length ? { diskCopyMiB: Math.ceil(diskCopyBytes / 2 ** 20) } : {}),
  });
  m.controller = d.state;
  m.rec.observe(s, d.verdict, Date.now(), copies.length ? flight.vm.memoryMiB * 2 ** 20 + diskCopyBytes : undefined);
  if (s.mode === 'postcopy') m.sawPostcopy = true;
  if (s.mode === 'postcopy' && m.rec.phase !== 'post-copy') enterPhase(m, 'post-copy');
  if (s.mode === 'paused' && m.rec.phase !== 'paused') enterPhase(m, 'paused');
  for (const action of d.actions) {
    const result = await applyAction({ vm: flight.vm, source: flight.source, destination: flight.destination, action });
    if (action.kind === 'pause') flight.pausedByUs = true;
    m.rec.decide(Date.now(), action.kind, `${d.reason} -> ${result}`, {
      iteration: d.observed.iteration, remainingBytes: d.observed.remainingBytes, bandwidthBps: d.observed.bandwidthBps,
      impliedDowntimeMs: d.observed.impliedDowntimeMs, maxDowntimeMs: d.observed.maxDowntimeMs, ...('ms' in action ? { ms: action.ms } : {}),
    });
    if (action.kind === 'abort' || action.kind === 'resume-and-abort') return { kind: 'ended-on-source', why: abort ? 'operator' : 'controller' };
  }
  return undefined;
}
