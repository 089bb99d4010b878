/**
 * The facts a forecast needs from the hosts, read-only: how fast the guest dirties its memory
 * (QEMU's page-sampling calculation, as the drain measures it: never the dirty-bitmap mode, which
 * killed a TCG guest's QEMU 7.2 on the lab) and both hosts' link speeds from the inventory.
 * Idempotent: measuring twice only measures again.
 */
import type { ForecastFacts, ForecastFactsInput } from '../model/forecast/schemas';
import type { ActivityDeps } from './deps';
import { measureDirtyRates, type DirtyRateOptions } from './dirty-rates';
import { refuse } from './refusal';
import { sourceDomain } from './source-domain';

/** Longer than the drain's 1 s: one guest, and the forecast's error grows with a short sample. */
const SAMPLE_SECONDS = 3;

/** `measuring`: the sampling's sleep, replaced by tests (the sampling time is fixed here). */
export function forecastFactsActivities(deps: ActivityDeps, measuring: Pick<Partial<DirtyRateOptions>, 'sleep'> = {}) {
  async function gatherForecastFacts(input: ForecastFactsInput): Promise<ForecastFacts> {
    for (const host of [input.source, input.destination]) {
      const unknown = deps.inventory.unknownHost(host);
      if (unknown) throw refuse(`host: ${unknown}`);
    }
    const { c, dom } = await sourceDomain(deps, input.source, input.vmUuid);
    const rates = await measureDirtyRates(c, [dom], { ...measuring, seconds: SAMPLE_SECONDS });
    return {
      dirtyBps: rates.get(dom.uuid) ?? null,
      sourceLinkMiBps: deps.inventory.get(input.source).linkMiBps ?? null,
      destinationLinkMiBps: deps.inventory.get(input.destination).linkMiBps ?? null,
    };
  }
  return { gatherForecastFacts };
}
