/**
 * The LiveMigration workflow: one named step per phase of the runbook (design.md), plus rollback.
 * Deterministic orchestration only: every side effect is an activity, every decision a pure
 * function (convergence controller, situation table), every step recorded with why.
 */
import {
  ApplicationFailure, ContinueAsNew, continueAsNew, sleep, upsertSearchAttributes, uuid4, workflowInfo,
} from '@temporalio/workflow';
import type { MigrationSample, VmFacts } from '../model/activity-contract';
import { acts, finishActs, recoverActs, watchActs } from './activity-proxies';
import {
  ConvergencePolicySchema, decide, initialControllerState, postcopyUsable,
  type ControllerState, type ConvergencePolicy,
} from './convergence';
import { MigrationRecord } from './migration-record';
import { NO_ABORT_PHASES, registerOperatorHandlers } from './operator-handlers';
import { FerryDestination, FerryOutcome, FerryPhase, FerrySource, FerryVmName, FerryVmUuid } from '../model/search-attributes';
import { classifySituation } from '../model/situation';
import { migrationWorkflowId, parseMigrationRequest, type MigrationRequest, type Outcome, type Phase } from '../model/types';

/** Where a running migration stands, carried across continue-as-new. */
export interface MigrationInFlight {
  migrationId: string;
  vm: VmFacts;
  source: string;
  destination: string;
  destXml: string;
  postcopyEligible: boolean;
  guestMark: Record<string, unknown> | null;
  startedAtMs: number;
  controller: ControllerState;
  percent: number;
  decisions: MigrationRecord['decisions'];
  lastIteration: number | null;
  pausedByUs: boolean;
}

/** Watch rounds before the history is cut with continue-as-new (a few events each). */
const ROUNDS_BEFORE_CONTINUE_AS_NEW = 200;
const WATCH_MAX_WAIT_MS = 2_000;
/** Pause before observing again when the job has ended but the hosts do not tell a final story yet. */
const SETTLE_OBSERVE_MS = 1_000;
const ESCALATED_OBSERVE_MS = 15_000;

type Ended = { kind: 'switched' } | { kind: 'ended-on-source'; why: 'operator' | 'controller' | 'failed'; error?: string };

export async function liveMigration(input: unknown, resume?: MigrationInFlight): Promise<Outcome> {
  const parsed = parseMigrationRequest(input);
  if (!parsed.ok) throw ApplicationFailure.nonRetryable(parsed.error, 'InvalidInput');
  const req = parsed.value;
  const policy = ConvergencePolicySchema.parse(req.policy ?? {});
  const rec = new MigrationRecord(resume?.startedAtMs ?? Date.now(), resume?.source ?? req.source ?? 'unknown');
  let ctl: ControllerState = resume?.controller ?? initialControllerState(policy);
  let eligible = resume?.postcopyEligible ?? false;
  let sawPostcopy = false;
  if (resume) rec.decisions.push(...resume.decisions);

  // ---- operator interface: queries and updates (validators refuse with the reason) -------------
  registerOperatorHandlers({ rec, policy, controller: () => ctl, postcopyEligible: () => eligible });

  function phase(p: Phase): void {
    rec.setPhase(p, Date.now());
    upsertSearchAttributes([{ key: FerryPhase, value: p }]);
  }

  // ---- 1. pre-checks (read-only), destination choice -------------------------------------------
  let flight: MigrationInFlight;
  if (resume) {
    flight = resume;
    rec.progress = { ...rec.progress, percent: resume.percent, destination: resume.destination };
    rec.decide(Date.now(), 'resume', 'continued as new: observing both hosts before anything else');
  } else {
    phase('pre-checks');
    const src = await acts.checkSource({ vm: req.vm, source: req.source });
    const expectedId = migrationWorkflowId(src.vm.uuid);
    if (workflowInfo().workflowId !== expectedId) {
      throw ApplicationFailure.nonRetryable(
        `this migration must run as workflow id ${expectedId} (derived from the VM, so one VM has one migration at a time); ` +
          `start it again with --workflow-id ${expectedId}`,
        'InvalidInput',
      );
    }
    rec.progress = { ...rec.progress, source: src.source };
    upsertSearchAttributes([
      { key: FerryVmUuid, value: src.vm.uuid }, { key: FerryVmName, value: src.vm.name }, { key: FerrySource, value: src.source },
    ]);
    const dest = await acts.chooseDestinationHost({ vm: src.vm, source: src.source, requested: req.destination });
    rec.decide(Date.now(), 'choose-destination', dest.detail, { destination: dest.destination, how: dest.how });
    const dchk = await acts.checkDestination({ vm: src.vm, source: src.source, destination: dest.destination });
    eligible = src.postcopyBlockers.length === 0 && dchk.postcopySupported;
    const usable = postcopyUsable(policy, eligible);
    rec.decide(Date.now(), 'resolve-policy', `pre-checks passed; ${usable.why}${src.postcopyBlockers.length ? ` (${src.postcopyBlockers.join(', ')})` : ''}`, {
      postcopyEligible: eligible, postcopyUsable: usable.usable,
    });
    rec.progress = { ...rec.progress, destination: dest.destination };
    upsertSearchAttributes([{ key: FerryDestination, value: dest.destination }]);

    // ---- 2. claim in Placement (compensated by moving the allocation back) ---------------------
    phase('claiming');
    const migrationId = uuid4();
    try {
      const claim = await acts.claim({ migrationId, vm: src.vm, source: src.source, destination: dest.destination });
      rec.decide(Date.now(), 'claim', claim.detail);
    } catch (err) {
      await acts.revertClaim({ migrationId, vmUuid: src.vm.uuid });
      throw err;
    }
    flight = {
      migrationId, vm: src.vm, source: src.source, destination: dest.destination, destXml: '', postcopyEligible: eligible,
      guestMark: null, startedAtMs: rec.startedAtMs, controller: ctl, percent: 0, decisions: [], lastIteration: null, pausedByUs: false,
    };
  }

  // ---- 3-5. prepare, start, watch and decide (rolled back on any failure before the switch) ----
  let ended: Ended;
  try {
    if (!resume) {
      phase('preparing');
      const prep = await acts.prepareDestination({ vm: flight.vm, source: flight.source, destination: flight.destination });
      flight.destXml = prep.destXml;
      rec.decide(Date.now(), 'prepare-destination', prep.changes.length ? `destination XML: ${prep.changes.join('; ')}` : 'destination XML: nothing host-specific to rewrite');
      flight.guestMark = await acts.guestStallMark({ vmName: flight.vm.name });
      phase('pre-copy');
      const usable = postcopyUsable(policy, eligible).usable;
      const started = await acts.startMigration({
        migrationId: flight.migrationId, vm: flight.vm, source: flight.source, destination: flight.destination, destXml: flight.destXml,
        postcopy: usable, bandwidthMiBps: req.bandwidthMiBps ?? null, initialMaxDowntimeMs: policy.downtime.initialMs,
      });
      rec.decide(Date.now(), 'start', `peer-to-peer ${usable ? 'pre-copy, post-copy enabled' : 'pre-copy'}: ${started.outcome}`);
    }
    ended = await watchAndDecide();
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err; // not a failure: the migration goes on in a new run
    // Never roll back once post-copy may have begun: requested (StartPostCopy may have switched
    // QEMU already), running, or being recovered. The newest memory may be on the destination.
    if (ctl.phase === 'postcopy' || ctl.phase === 'postcopy-requested' || rec.phase === 'post-copy' || rec.phase === 'recovering') throw err;
    return rollBack('failed', err);
  }
  if (ended.kind === 'ended-on-source') {
    return rollBack(ended.why === 'operator' ? 'rolled_back' : ended.why === 'controller' ? 'aborted' : 'failed', ended.error);
  }

  // ---- 6. finish: both hosts agree, final stats, allocations, source cleaned ---------------------
  phase('finishing');
  const fin = await finishActs.finishMigration({ migrationId: flight.migrationId, vm: flight.vm, source: flight.source, destination: flight.destination });
  const stall = await acts.guestStallSince({ vmName: flight.vm.name, mark: flight.guestMark });
  rec.done(Date.now());
  upsertSearchAttributes([{ key: FerryPhase, value: 'done' }, { key: FerryOutcome, value: 'completed' }]);
  return outcome('completed', {
    downtimeMs: fin.stats.downtimeMs, bytes: fin.stats.bytes, iterations: fin.stats.iterations, guestMaxStallMs: stall, hosts: fin.hosts,
    postcopyRequests: fin.stats.postcopyRequests,
  });

  // ---- the watch loop ----------------------------------------------------------------------------
  async function watchAndDecide(): Promise<Ended> {
    let lastMode: MigrationSample['mode'] = ctl.phase === 'postcopy' ? 'postcopy' : ctl.phase === 'paused' ? 'paused' : 'setup';
    let lastSituation: string | null = null;
    for (let round = 0; ; round++) {
      // History stays bounded however long the migration runs: the state moves to a new run.
      if (round >= ROUNDS_BEFORE_CONTINUE_AS_NEW && rec.phase !== 'post-copy' && rec.phase !== 'recovering') {
        await continueAsNew<typeof liveMigration>(req as unknown, {
          ...flight, controller: ctl, percent: rec.progress.percent, decisions: rec.decisions,
        });
      }
      if (rec.abortRequested && !NO_ABORT_PHASES.includes(rec.phase)) {
        await acts.applyAction({ vm: flight.vm, source: flight.source, action: flight.pausedByUs ? { kind: 'resume-and-abort' } : { kind: 'abort' } });
        rec.decide(Date.now(), 'abort', `operator: ${rec.abortRequested.reason}`);
        return { kind: 'ended-on-source', why: 'operator' };
      }
      const s: MigrationSample = await watchActs.watchMigration({
        vm: flight.vm, source: flight.source, destination: flight.destination, maxWaitMs: WATCH_MAX_WAIT_MS,
        lastIteration: flight.lastIteration, lastMode,
      });
      if (s.postcopyFailed) {
        await recover(s);
        continue;
      }
      if (s.job === 'ended') {
        const where = classifySituation(s.source, s.destination);
        if (where.situation !== lastSituation) {
          rec.decide(Date.now(), where.next === 'escalate' ? 'escalate' : 'job-ended', where.explanation, { situation: where.situation });
        }
        lastSituation = where.situation;
        if (where.next === 'finish' || where.next === 'finish-on-source') return { kind: 'switched' };
        if (where.next === 'roll-back') return { kind: 'ended-on-source', why: ctl.phase === 'aborting' ? 'controller' : 'failed', error: where.explanation };
        // Switch-over settling, a host not answering, or a state no machine should resolve
        // (split brain, VM lost): observe again after a pause, never guess.
        await sleep(where.next === 'escalate' ? ESCALATED_OBSERVE_MS : SETTLE_OBSERVE_MS);
        continue;
      }
      const d = decide(policy, ctl, {
        atMs: Date.now() - rec.startedAtMs, iteration: s.iteration ?? 0, dataTotal: s.dataTotal, dataRemaining: s.dataRemaining,
        dataProcessed: s.dataProcessed, memoryBps: s.memoryBps ?? 0, dirtyBps: s.dirtyBps ?? 0, mode: s.mode,
        memoryMiB: flight.vm.memoryMiB, postcopyEligible: eligible, operator: rec.takeOperatorInput(),
      });
      ctl = d.state;
      rec.observe(s, d.verdict, Date.now());
      if (s.mode === 'postcopy') sawPostcopy = true;
      if (s.mode === 'postcopy' && rec.phase !== 'post-copy') phase('post-copy');
      if (s.mode === 'paused' && rec.phase !== 'paused') phase('paused');
      for (const action of d.actions) {
        const result = await acts.applyAction({ vm: flight.vm, source: flight.source, action });
        if (action.kind === 'pause') flight.pausedByUs = true;
        rec.decide(Date.now(), action.kind, `${d.reason} -> ${result}`, {
          iteration: d.observed.iteration, remainingBytes: d.observed.remainingBytes, bandwidthBps: d.observed.bandwidthBps,
          impliedDowntimeMs: d.observed.impliedDowntimeMs, maxDowntimeMs: d.observed.maxDowntimeMs, ...('ms' in action ? { ms: action.ms } : {}),
        });
        if (action.kind === 'abort' || action.kind === 'resume-and-abort') return { kind: 'ended-on-source', why: 'controller' };
      }
      flight.lastIteration = s.iteration;
      lastMode = s.mode;
    }
  }

  /** A broken post-copy is resumed (POSTCOPY_RESUME, with backoff), never destroyed on either side. */
  async function recover(s: MigrationSample): Promise<void> {
    phase('recovering');
    rec.decide(Date.now(), 'recover-postcopy', `post-copy broke (source ${JSON.stringify(s.source.domain)}, destination ${JSON.stringify(s.destination.domain)}): resuming it`);
    const r = await recoverActs.recoverPostcopy({ vm: flight.vm, source: flight.source, destination: flight.destination, destXml: flight.destXml });
    rec.decide(Date.now(), 'recovered', r);
    phase('post-copy');
  }

  async function rollBack(kind: 'rolled_back' | 'aborted' | 'failed', cause?: unknown): Promise<Outcome> {
    phase('rolling-back');
    const rb = await finishActs.rollbackMigration({
      migrationId: flight.migrationId, vm: flight.vm, source: flight.source, destination: flight.destination, resumeIfPaused: flight.pausedByUs,
    });
    rec.decide(Date.now(), 'roll-back', rb.steps.join('; '));
    rec.setPhase('done', Date.now());
    upsertSearchAttributes([{ key: FerryPhase, value: 'done' }, { key: FerryOutcome, value: kind }]);
    const error = cause === undefined ? undefined : cause instanceof Error
      ? { message: (cause.cause instanceof Error ? cause.cause.message : undefined) ?? cause.message, type: cause.name }
      : { message: String(cause), type: 'Error' };
    return outcome(kind, { downtimeMs: null, bytes: null, iterations: null, guestMaxStallMs: null, hosts: rb.hosts, error });
  }

  function outcome(
    kind: Outcome['outcome'],
    x: Pick<Outcome, 'downtimeMs' | 'bytes' | 'iterations' | 'guestMaxStallMs' | 'hosts'> & { error?: Outcome['error']; postcopyRequests?: number | null },
  ): Outcome {
    // A switch may complete before any sample shows the new mode: pages served after the switch
    // (post-copy requests) and our own pause are the evidence.
    const postcopy = ctl.phase === 'postcopy' || sawPostcopy || (x.postcopyRequests ?? 0) > 0;
    const { postcopyRequests: _, ...rest } = x;
    return {
      migrationId: flight.migrationId,
      outcome: kind,
      mode: postcopy ? 'postcopy' : flight.pausedByUs || ctl.phase === 'paused' ? 'paused' : 'precopy',
      source: flight.source,
      destination: flight.destination,
      totalMs: Date.now() - rec.startedAtMs,
      decisions: rec.decisions.map(({ atMs, action, reason }) => ({ atMs, action, reason })),
      resolvedPolicy: policy,
      vm: { name: flight.vm.name, uuid: flight.vm.uuid },
      ...rest,
    };
  }
}

export type { MigrationRequest, ConvergencePolicy };
