import { ApplicationFailure, patched } from '@temporalio/workflow';
import type { SourceCheckResult } from '../../model/activity-contract';
import { pathBandwidth } from '../../model/forecast/path-bandwidth';
import { forecastDecision, policyForPick } from '../../model/forecast/strategy-choice';
import { forecastMigrationStrategies } from '../../model/forecast/strategy-forecast';
import { gatherForecastFacts } from '../activity-proxies';
import type { Migration } from '../migration-state';

const MiB = 1024 * 1024;

/**
 * `strategy: auto`, after admission and before the claim (the pair is final and nothing has
 * moved): the guest's dirty rate measured on its host, the path's bandwidth (the request's limit,
 * else the inventory's link speeds), the forecast of every strategy, and the pick, recorded as the
 * migration's forecast decision with the predicted numbers. The controller then follows the
 * picked policy (model/forecast/strategy-choice.ts). A migration that nothing allowed would finish
 * is refused here; one ferry cannot forecast (no dirty rate, no bandwidth) goes on as configured,
 * and the decision says why. An operator's abort that came first skips it.
 *
 * Runs begun before had no such step (patch 'strategy-auto'): they follow the policy as configured.
 */
export async function chooseStrategy(m: Migration, src: SourceCheckResult, destination: string): Promise<void> {
  if (m.policy.strategy !== 'auto' || m.rec.abortRequested !== null || !patched('strategy-auto')) return;
  const facts = await gatherForecastFacts({ vmUuid: src.vm.uuid, source: src.source, destination });
  const asConfigured = '-> strategy as configured';
  if (facts.dirtyBps === null) {
    m.rec.decide(Date.now(), 'forecast', `${src.source} could not measure the guest's dirty rate (QEMU's dirty-rate calculation) ${asConfigured}`, { pick: null });
    return;
  }
  const bw = pathBandwidth({
    operatorMiBps: m.req.bandwidthMiBps ?? null,
    sourceLinkMiBps: facts.sourceLinkMiBps,
    destinationLinkMiBps: facts.destinationLinkMiBps,
  });
  if (bw.bps === null) {
    m.rec.decide(Date.now(), 'forecast', `no bandwidth known for ${src.source} -> ${destination} (no bandwidthMiBps in the request, no linkMiBps for both hosts in the inventory) ${asConfigured}`, { pick: null });
    return;
  }
  const forecast = forecastMigrationStrategies({
    memoryBytes: src.vm.memoryMiB * MiB, dirtyBps: facts.dirtyBps, workingSetBytes: facts.workingSetBytes ?? null,
    bandwidthBps: bw.bps, policy: m.policy, postcopyEligible: m.postcopyEligible,
  });
  const detail = bw.source === 'operator' ? `the request's bandwidth limit` : bw.detail;
  const d = forecastDecision(forecast, {
    memoryMiB: src.vm.memoryMiB, dirtyBps: facts.dirtyBps, bandwidthBps: bw.bps, bandwidthSource: bw.source, bandwidthDetail: detail,
  });
  m.rec.decide(Date.now(), 'forecast', d.reason, d.inputs);
  if (forecast.pick === null) {
    throw ApplicationFailure.nonRetryable(`strategy auto: ${forecast.pickReason} (forecast: ${d.reason})`, 'Refused');
  }
  m.strategy = forecast.pick;
  m.policy = policyForPick(m.policy, forecast.pick);
}
