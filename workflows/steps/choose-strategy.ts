import { ApplicationFailure, patched } from '@temporalio/workflow';
import type { SourceCheckResult } from '../../model/activity-contract';
import { autoForecast, type ForecastPlan } from '../../model/forecast/auto-forecast';
import { policyForPick } from '../../model/forecast/strategy-choice';
import { gatherForecastFacts } from '../activity-proxies';
import type { Migration } from '../migration-state';

/**
 * `strategy: auto`, after admission and before the claim (the pair is final and nothing has
 * moved): the guest's dirty rate measured on its host, the path's bandwidth (the inventory's link
 * speeds, else the request's limit; the limit itself holds in pre-copy only), the forecast of
 * every strategy, and the pick, recorded as the migration's forecast decision with the predicted
 * numbers. The controller then follows the picked policy (model/forecast/strategy-choice.ts). A
 * migration that nothing allowed would finish is refused here; one ferry cannot forecast (no dirty
 * rate, no bandwidth) goes on as configured, and the decision says why. An operator's abort that
 * came first skips it.
 *
 * The activity computes the forecast (model/forecast/auto-forecast.ts) and returns it with the
 * facts, so a replay reads the pick from the history rather than from today's model. Results
 * recorded before carry no forecast: it is computed here from their facts with the model of then
 * (its dirty count; their facts carry no resident set), so they pick as they did.
 *
 * Runs begun before had no such step (patch 'strategy-auto'): they follow the policy as configured.
 */
export async function chooseStrategy(m: Migration, src: SourceCheckResult, destination: string): Promise<void> {
  if (m.policy.strategy !== 'auto' || m.rec.abortRequested !== null || !patched('strategy-auto')) return;
  const plan: ForecastPlan = {
    source: src.source, destination, memoryMiB: src.vm.memoryMiB, limitMiBps: m.req.bandwidthMiBps ?? null,
    policy: m.policy, postcopyEligible: m.postcopyEligible,
  };
  const facts = await gatherForecastFacts({ vmUuid: src.vm.uuid, source: src.source, destination, plan });
  // A result without the forecast was recorded before it moved into the activity: forecast with the model of then.
  const auto = facts.auto ?? autoForecast(facts, plan, { recorded: true });
  if (auto.kind === 'none') {
    m.rec.decide(Date.now(), 'forecast', auto.reason, { pick: null });
    return;
  }
  m.rec.decide(Date.now(), 'forecast', auto.decision.reason, auto.decision.inputs);
  if (auto.pick === null) {
    throw ApplicationFailure.nonRetryable(`strategy auto: ${auto.pickReason} (forecast: ${auto.decision.reason})`, 'Refused');
  }
  m.strategy = auto.pick;
  m.policy = policyForPick(m.policy, auto.pick);
}
