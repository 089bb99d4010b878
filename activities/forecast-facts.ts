/**
 * The facts a forecast needs from the hosts, read-only: how fast the guest dirties its memory
 * (QEMU's page-sampling calculation, as the drain measures it: never the dirty-bitmap mode, which
 * killed a TCG guest's QEMU 7.2 on the lab) and both hosts' link speeds from the inventory.
 * Idempotent: measuring twice only measures again.
 */
import { withAutoForecast } from '../model/forecast/auto-forecast';
import { estimateDirtying } from '../model/forecast/dirty-estimate';
import { DomainStatsTypes, residentBytesFromStats } from './libvirt';
import type { ForecastFacts, ForecastFactsInput } from '../model/forecast/schemas';
import type { ActivityDeps } from './deps';
import { measureDirtyRates, type DirtyRateOptions } from './dirty-rates';
import { refuse } from './refusal';
import { sourceDomain } from './source-domain';

/**
 * Two windows, one after the other (3 s in all, longer than the drain's 1 s: the forecast's error
 * grows with a short sample): together they tell a guest rewriting a working set from one
 * spreading its writes (model/forecast/dirty-estimate.ts).
 */
const SHORTER_SECONDS = 1;
const LONGER_SECONDS = 2;

/** `measuring`: the sampling's sleep, replaced by tests (the sampling time is fixed here). */
export function forecastFactsActivities(deps: ActivityDeps, measuring: Pick<Partial<DirtyRateOptions>, 'sleep'> = {}) {
  async function gatherForecastFacts(input: ForecastFactsInput): Promise<ForecastFacts> {
    for (const host of [input.source, input.destination]) {
      const unknown = deps.inventory.unknownHost(host);
      if (unknown) throw refuse(`host: ${unknown}`);
    }
    const { c, dom } = await sourceDomain(deps, input.source, input.vmUuid);
    const shorter = (await measureDirtyRates(c, [dom], { ...measuring, seconds: SHORTER_SECONDS })).get(dom.uuid) ?? null;
    const longer = (await measureDirtyRates(c, [dom], { ...measuring, seconds: LONGER_SECONDS })).get(dom.uuid) ?? null;
    const estimate = estimateDirtying({ seconds: SHORTER_SECONDS, bps: shorter }, { seconds: LONGER_SECONDS, bps: longer });
    // QEMU's resident set bounds the RAM that holds data: the rest migrates as zero pages (cheap).
    const balloon = await c.connectGetAllDomainStats([dom], DomainStatsTypes.Balloon).catch(() => []);
    const residentBytes = balloon.length > 0 ? residentBytesFromStats(balloon[0]!.params) : null;
    return withAutoForecast({
      dirtyBps: estimate.dirtyBps,
      workingSetBytes: estimate.workingSetBytes,
      residentBytes,
      sourceLinkMiBps: deps.inventory.get(input.source).linkMiBps ?? null,
      destinationLinkMiBps: deps.inventory.get(input.destination).linkMiBps ?? null,
    }, input.plan);
  }
  return { gatherForecastFacts };
}
