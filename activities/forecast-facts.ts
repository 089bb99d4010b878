/**
 * The facts a forecast needs from the hosts, read-only: how fast the guest dirties its memory
 * (QEMU's page-sampling calculation, as the drain measures it: never the dirty-bitmap mode, which
 * killed a TCG guest's QEMU 7.2 on the lab), both hosts' link speeds from the inventory, and the
 * pair's recent completed migrations from Temporal's visibility (what its fixed costs are learned from).
 * Idempotent: measuring twice only measures again.
 */
import { withAutoForecast } from '../model/forecast/auto-forecast';
import { estimateDirtying, type DirtyEstimate } from '../model/forecast/dirty-estimate';
import { weighSampling, type SamplingRound } from '../model/forecast/dirty-sampling';
import { PAST_MIGRATIONS_READ, type PastMigration } from '../model/forecast/path-history';
import { DomainStatsTypes, guestMemoryBytesFromStats, residentBytesFromStats, type DomainRef, type LibvirtClient } from './libvirt';
import type { ForecastFacts, ForecastFactsInput } from '../model/forecast/schemas';
import type { ActivityDeps } from './deps';
import { measureDirtyRates, type DirtyRateOptions } from './dirty-rates';
import { refuse } from './refusal';
import { sourceDomain } from './source-domain';

/**
 * Two windows, one after the other (3 s in all, longer than the drain's 1 s: the forecast's error
 * grows with a short sample): together they tell a guest rewriting a working set from one
 * spreading its writes (model/forecast/dirty-sampling.ts).
 */
const SHORTER_SECONDS = 1;
const LONGER_SECONDS = 2;
/** At most this many rounds of the two windows (about 3.3 s each). */
const MAX_ROUNDS = 3;
const MiB = 1024 * 1024;

/** Reading the pair's past migrations may take this long; beyond, the forecast goes without them. */
const HISTORY_READ_MS = 10_000;

/**
 * The pair's recent completed migrations, read alongside the sampling. A visibility that fails or
 * is slow only costs the forecast its learned fixed costs (it then takes the lab's, and says so).
 */
async function readPastMigrations(deps: ActivityDeps, source: string, destination: string): Promise<PastMigration[]> {
  if (!deps.history) return [];
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<PastMigration[]>((resolve) => { timer = setTimeout(() => resolve([]), HISTORY_READ_MS); });
  try {
    return await Promise.race([deps.history.pastMigrations(source, destination, PAST_MIGRATIONS_READ).catch(() => []), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Rounds of the two windows until the verdict on the guest's writes is settled (model/forecast/
 * dirty-sampling.ts), at most MAX_ROUNDS: a small guest's 64 sampled pages may need two or three,
 * a guest of a few GiB one. Without the guest's size (no balloon stats) one round, read by the
 * two-window rule (model/forecast/dirty-estimate.ts).
 */
async function sampleDirtying(c: LibvirtClient, dom: DomainRef, memoryBytes: number | null, measuring: Pick<Partial<DirtyRateOptions>, 'sleep'>): Promise<DirtyEstimate> {
  const rounds: SamplingRound[] = [];
  for (;;) {
    const shorter = (await measureDirtyRates(c, [dom], { ...measuring, seconds: SHORTER_SECONDS })).get(dom.uuid) ?? null;
    const longer = (await measureDirtyRates(c, [dom], { ...measuring, seconds: LONGER_SECONDS })).get(dom.uuid) ?? null;
    rounds.push({ shorter: { seconds: SHORTER_SECONDS, bps: shorter }, longer: { seconds: LONGER_SECONDS, bps: longer } });
    if (memoryBytes === null) return estimateDirtying(rounds[0]!.shorter, rounds[0]!.longer);
    const verdict = weighSampling(rounds, memoryBytes);
    if (verdict.settled || rounds.length >= MAX_ROUNDS) return verdict;
  }
}

/** `measuring`: the sampling's sleep, replaced by tests (the sampling time is fixed here). */
export function forecastFactsActivities(deps: ActivityDeps, measuring: Pick<Partial<DirtyRateOptions>, 'sleep'> = {}) {
  async function gatherForecastFacts(input: ForecastFactsInput): Promise<ForecastFacts> {
    for (const host of [input.source, input.destination]) {
      const unknown = deps.inventory.unknownHost(host);
      if (unknown) throw refuse(`host: ${unknown}`);
    }
    const { c, dom } = await sourceDomain(deps, input.source, input.vmUuid);
    const past = readPastMigrations(deps, input.source, input.destination);
    // The guest's size says how many pages QEMU samples: the plan's, else the balloon stats'.
    const sized = input.plan ? [] : await c.connectGetAllDomainStats([dom], DomainStatsTypes.Balloon).catch(() => []);
    const memoryBytes = input.plan ? input.plan.memoryMiB * MiB : sized.length > 0 ? guestMemoryBytesFromStats(sized[0]!.params) : null;
    const estimate = await sampleDirtying(c, dom, memoryBytes, measuring);
    // QEMU's resident set bounds the RAM that holds data (the rest migrates as zero pages, cheap),
    // read after the sampling: a guest spreading its writes touched more memory meanwhile (up to
    // 10 s of it), and the migration starts from then.
    const balloon = await c.connectGetAllDomainStats([dom], DomainStatsTypes.Balloon).catch(() => []);
    const residentBytes = balloon.length > 0 ? residentBytesFromStats(balloon[0]!.params) : null;
    return withAutoForecast({
      dirtyBps: estimate.dirtyBps,
      workingSetBytes: estimate.workingSetBytes,
      dirtyEstimate: estimate.why,
      residentBytes,
      pastMigrations: await past,
      sourceLinkMiBps: deps.inventory.get(input.source).linkMiBps ?? null,
      destinationLinkMiBps: deps.inventory.get(input.destination).linkMiBps ?? null,
    }, input.plan);
  }
  return { gatherForecastFacts };
}
