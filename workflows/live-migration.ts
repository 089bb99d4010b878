/**
 * The LiveMigration workflow, as the runbook reads (design.md): validate, pre-checks, claim,
 * prepare, start, watch and decide, then finish — or roll back before the switch-over, and
 * recover (never destroy) a broken post-copy. Each step is its own function in steps/, state is
 * passed to it explicitly, and every side effect is an activity proxied with its own policy
 * (activity-proxies.ts). Deterministic: decisions are pure functions (convergence controller,
 * situation table), and each is recorded with the numbers behind it.
 */
import { ApplicationFailure, ContinueAsNew } from '@temporalio/workflow';
import { ConvergencePolicySchema } from '../model/convergence-policy';
import { parseMigrationRequest, type MigrationRequest, type Outcome } from '../model/types';
import { initialControllerState } from './convergence';
import { MigrationRecord } from './migration-record';
import { postcopyMayHaveBegun, type Migration, type MigrationInFlight } from './migration-state';
import { registerOperatorHandlers } from './operator-handlers';
import { claim } from './steps/claim';
import { finish } from './steps/finish';
import { prepare, start } from './steps/prepare-and-start';
import { preChecks } from './steps/pre-checks';
import { rollBack } from './steps/roll-back';
import { watchAndDecide, type Ended } from './steps/watch-and-decide';

export type { MigrationInFlight };

export async function liveMigration(input: unknown, resume?: MigrationInFlight): Promise<Outcome> {
  const m = begin(input, resume);
  registerOperatorHandlers({
    rec: m.rec, policy: m.policy, controller: () => m.controller, postcopyEligible: () => m.postcopyEligible,
  });

  let flight: MigrationInFlight;
  if (resume) {
    flight = resume;
    m.rec.progress = { ...m.rec.progress, percent: resume.percent, destination: resume.destination };
    m.rec.decide(Date.now(), 'resume', 'continued as new: observing both hosts before anything else');
  } else {
    const { src, dest } = await preChecks(m);
    const migrationId = await claim(m, src.vm, src.source, dest.destination);
    flight = {
      migrationId, vm: src.vm, source: src.source, destination: dest.destination, destXml: '', postcopyEligible: m.postcopyEligible,
      guestMark: null, startedAtMs: m.rec.startedAtMs, controller: m.controller, percent: 0, decisions: [], lastIteration: null, pausedByUs: false,
    };
  }

  let ended: Ended;
  try {
    if (!resume) {
      flight.destXml = await prepare(m, flight);
      flight.guestMark = await start(m, flight);
    }
    ended = await watchAndDecide(m, flight);
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err; // not a failure: the migration goes on in a new run
    // Never roll back once post-copy may have begun: the newest memory may be on the destination.
    if (postcopyMayHaveBegun(m)) throw err;
    return rollBack(m, flight, 'failed', err);
  }
  if (ended.kind === 'ended-on-source') {
    return rollBack(m, flight, ended.why === 'operator' ? 'rolled_back' : ended.why === 'controller' ? 'aborted' : 'failed', ended.error);
  }
  return finish(m, flight);
}

/** Validation, the resolved policy, and the record; a continued run picks up its flight's state. */
function begin(input: unknown, resume: MigrationInFlight | undefined): Migration {
  const parsed = parseMigrationRequest(input);
  if (!parsed.ok) throw ApplicationFailure.nonRetryable(parsed.error, 'InvalidInput');
  const req: MigrationRequest = parsed.value;
  const policy = ConvergencePolicySchema.parse(req.policy ?? {});
  const rec = new MigrationRecord(resume?.startedAtMs ?? Date.now(), resume?.source ?? req.source ?? 'unknown');
  if (resume) rec.decisions.push(...resume.decisions);
  return {
    req, policy, rec,
    controller: resume?.controller ?? initialControllerState(policy),
    postcopyEligible: resume?.postcopyEligible ?? false,
    sawPostcopy: false,
  };
}
