/**
 * The LiveMigration workflow, as the runbook reads (design.md): validate, pre-checks, claim,
 * prepare, start, watch and decide, then finish — or roll back before the switch-over, and
 * recover (never destroy) a broken post-copy. Each step is its own function in steps/, state is
 * passed to it explicitly, and every side effect is an activity proxied with its own policy
 * (activity-proxies.ts). Deterministic: decisions are pure functions (convergence controller,
 * situation table), and each is recorded with the numbers behind it.
 */
import { ApplicationFailure, ContinueAsNew, patched, setCurrentDetails, TemporalFailure, workflowInfo } from '@temporalio/workflow';
import { ConvergencePolicySchema } from '../model/convergence-policy';
import { policyForPick } from '../model/forecast/strategy-choice';
import { outcomeDetails, progressDetails } from '../model/migration-metadata';
import { malformedWorkflowIdRefusal, parseMigrationRequest, type MigrationRequest, type Outcome } from '../model/types';
import { initialControllerState } from './convergence';
import { MigrationRecord } from './migration-record';
import { recordOutcome, recordWorkflowFailure } from './metrics';
import { postcopyMayHaveBegun, prepared, type Migration, type MigrationInFlight } from './migration-state';
import { registerOperatorHandlers } from './operator-handlers';
import { decidePatchesUpFront } from './patches';
import { admission } from './steps/admission';
import { chooseStrategy } from './steps/choose-strategy';
import { claim } from './steps/claim';
import { finish } from './steps/finish';
import { prepare, start } from './steps/prepare-and-start';
import { preChecks } from './steps/pre-checks';
import { restoreEscalation } from './steps/recover';
import { rollBack } from './steps/roll-back';
import { watchAndDecide, type Ended } from './steps/watch-and-decide';

export type { MigrationInFlight };

export async function liveMigration(input: unknown, resume?: MigrationInFlight): Promise<Outcome> {
  try {
    const outcome = await migrate(input, resume);
    recordOutcome(outcome);
    setCurrentDetails(outcomeDetails(outcome));
    return outcome;
  } catch (err) {
    // A run that continues as new goes on; an error that is no TemporalFailure fails the workflow
    // task (retried), not the migration: neither has ended.
    if (err instanceof TemporalFailure) recordWorkflowFailure(isRefusal(err) ? 'refused' : 'failed');
    throw err;
  }
}

/** Refused input or a refusal of a pre-check (ferry's own 'InvalidInput' and 'Refused' failures, at any depth). */
function isRefusal(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof ApplicationFailure && (e.type === 'InvalidInput' || e.type === 'Refused')) return true;
  }
  return false;
}

async function migrate(input: unknown, resume: MigrationInFlight | undefined): Promise<Outcome> {
  decidePatchesUpFront();
  const m = begin(input, resume);
  registerOperatorHandlers({
    rec: m.rec, policy: () => m.policy, controller: () => m.controller, postcopyEligible: () => m.postcopyEligible,
  });

  let flight: MigrationInFlight;
  if (resume) {
    flight = resume;
    m.rec.progress = { ...m.rec.progress, percent: resume.percent, destination: resume.destination };
    m.rec.decide(Date.now(), 'resume', resume.recovery
      ? `continued as new while escalated (${resume.recovery.escalation.reason}): observing both hosts, waiting for an operator (resumeRecovery)`
      : 'continued as new: observing both hosts before anything else');
  } else {
    const checked = await preChecks(m);
    // Before the claim, the first act with an effect: wait while the shared limits are full (steps/admission.ts).
    const { src, dest } = await admission(m, checked, () => preChecks(m));
    await chooseStrategy(m, src, dest.destination);
    const migrationId = await claim(m, src.vm, src.source, dest.destination);
    flight = {
      migrationId, vm: src.vm, source: src.source, destination: dest.destination, postcopyEligible: m.postcopyEligible,
      guestMark: null, startedAtMs: m.rec.startedAtMs, controller: m.controller, percent: 0, decisions: [], lastIteration: null, pausedByUs: false,
      ...(m.diskCopies?.length ? { diskCopies: m.diskCopies } : {}),
      ...(m.sharedDisksVouched?.length ? { sharedDisksVouched: m.sharedDisksVouched } : {}),
      ...(m.strategy ? { strategy: m.strategy } : {}),
    };
  }

  for (;;) {
    const ended = await untilTheJobEnds(m, flight);
    if (ended.kind === 'switched') return finish(m, flight);
    const kind = ended.why === 'operator' ? 'rolled_back' : ended.why === 'controller' ? 'aborted' : 'failed';
    const undone = await rollBack(m, flight, kind, ended.error);
    if (undone.kind === 'outcome') return undone.outcome;
    // The guard found the guest elsewhere than on the source: finish, or keep watching (post-copy,
    // recovery, an unclear picture), never undo.
    if (undone.next === 'finish' || undone.next === 'finish-on-source') return finish(m, flight);
  }
}

/** Prepare and start (unless done already), then watch and decide until the job has ended. */
async function untilTheJobEnds(m: Migration, flight: MigrationInFlight): Promise<Ended> {
  try {
    if (!prepared(flight)) {
      if (operatorAborted(m)) return abortedBeforeStart(m);
      Object.assign(flight, await prepare(m, flight));
      if (operatorAborted(m)) return abortedBeforeStart(m);
      flight.guestMark = await start(m, flight);
    }
    return await watchAndDecide(m, flight);
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err; // not a failure: the migration goes on in a new run
    // Never roll back once post-copy may have begun: the newest memory may be on the destination.
    if (postcopyMayHaveBegun(m)) throw err;
    return { kind: 'ended-on-source', why: 'failed', error: err };
  }
}

function abortedBeforeStart(m: Migration): Ended {
  m.rec.decide(Date.now(), 'abort', `operator, before the migration started: ${m.rec.abortRequested?.reason ?? ''}`);
  return { kind: 'ended-on-source', why: 'operator' };
}

/**
 * An operator's abort that arrived before the job started acts at the next step boundary (runs
 * begun before this check waited for the job to start; they replay without it).
 */
function operatorAborted(m: Migration): boolean {
  return m.rec.abortRequested !== null && patched('abort-at-step-boundaries');
}

/** Validation, the resolved policy, and the record; a continued run picks up its flight's state. */
function begin(input: unknown, resume: MigrationInFlight | undefined): Migration {
  const parsed = parseMigrationRequest(input);
  if (!parsed.ok) throw ApplicationFailure.nonRetryable(parsed.error, 'InvalidInput');
  const req: MigrationRequest = parsed.value;
  // A workflow id that is no migration id (migrate-<vm uuid>) is refused before any host is asked
  // (runs begun before this check asked the source first, then refused: they replay without it).
  const malformed = resume ? null : malformedWorkflowIdRefusal(workflowInfo().workflowId, req.vm);
  if (malformed !== null && patched('refuse-malformed-workflow-id')) throw ApplicationFailure.nonRetryable(malformed, 'InvalidInput');
  const requested = ConvergencePolicySchema.parse(req.policy ?? {});
  // A continued run follows what `strategy: auto` picked in the first (steps/choose-strategy.ts).
  const policy = resume?.strategy ? policyForPick(requested, resume.strategy) : requested;
  const rec = new MigrationRecord(resume?.startedAtMs ?? Date.now(), resume?.source ?? req.source ?? 'unknown', (p) => setCurrentDetails(progressDetails(p)));
  if (resume) rec.decisions.push(...resume.decisions);
  if (resume?.abortRequested) rec.abortRequested = resume.abortRequested;
  if (resume?.operatorInput) rec.operator = resume.operatorInput;
  // Before the handlers are registered: an update sent to the new run is judged in this state.
  if (resume?.recovery) restoreEscalation(rec, resume.recovery);
  return {
    req, policy, rec, ...(resume?.strategy ? { strategy: resume.strategy } : {}),
    controller: resume?.controller ?? initialControllerState(policy),
    postcopyEligible: resume?.postcopyEligible ?? false,
    sawPostcopy: false,
  };
}
