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
 * moved): the guest's dirty rate measured on its host, the path's bandwidth (the inventory's link
 * speeds, else the request's limit; the limit itself holds in pre-copy only), the forecast of every strategy, and the pick, recorded as the
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
  // The path: the inventory's link speeds; the request's bandwidth limit holds in pre-copy only
  // (post-copy pulls at the path's speed). No link speed known: post-copy assumed no faster than the limit.
  const link = pathBandwidth({ sourceLinkMiBps: facts.sourceLinkMiBps, destinationLinkMiBps: facts.destinationLinkMiBps });
  const limitBps = m.req.bandwidthMiBps !== undefined ? m.req.bandwidthMiBps * MiB : null;
  const bandwidthBps = link.bps ?? limitBps;
  if (bandwidthBps === null) {
    m.rec.decide(Date.now(), 'forecast', `no bandwidth known for ${src.source} -> ${destination} (no bandwidthMiBps in the request, no linkMiBps for both hosts in the inventory) ${asConfigured}`, { pick: null });
    return;
  }
  const limited = limitBps !== null && limitBps < bandwidthBps ? `, pre-copy limited to ${m.req.bandwidthMiBps} MiB/s by the request` : '';
  const detail = link.bps !== null
    ? `${link.detail}${limited}`
    : "the request's bandwidth limit; no link speed in the inventory, so post-copy is assumed no faster";
  const forecast = forecastMigrationStrategies({
    memoryBytes: src.vm.memoryMiB * MiB, dirtyBps: facts.dirtyBps, workingSetBytes: facts.workingSetBytes ?? null,
    bandwidthBps, capBps: limitBps, policy: m.policy, postcopyEligible: m.postcopyEligible,
  });
  const d = forecastDecision(forecast, {
    memoryMiB: src.vm.memoryMiB, dirtyBps: facts.dirtyBps, workingSetBytes: facts.workingSetBytes ?? null, bandwidthBps, bandwidthSource: link.bps !== null ? link.source : 'operator', bandwidthDetail: detail,
  });
  m.rec.decide(Date.now(), 'forecast', d.reason, d.inputs);
  if (forecast.pick === null) {
    throw ApplicationFailure.nonRetryable(`strategy auto: ${forecast.pickReason} (forecast: ${d.reason})`, 'Refused');
  }
  m.strategy = forecast.pick;
  m.policy = policyForPick(m.policy, forecast.pick);
}
