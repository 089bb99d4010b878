/**
 * gatherForecastFacts against a stub host: the guest's dirty rate by page sampling (flags 0, never
 * the dirty-bitmap mode), both hosts' link speeds from the inventory, an unknown host refused.
 */
import { describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../../activities/deps';
import { forecastFactsActivities } from '../../../activities/forecast-facts';
import { Inventory } from '../../../activities/hosts';
import { param } from '../../../activities/libvirt/typed-params';
import { DomainStatsTypes } from '../../../activities/libvirt';
import type { DomainRef } from '../../../activities/libvirt';

const MiB = 1024 * 1024;
const WEB: DomainRef = { name: 'web-1', uuid: 'aaaaaaaa-0000-4000-8000-000000000001', id: 1 };
const RP = { a: '11111111-1111-4111-8111-111111111111', c: '33333333-3333-4333-8333-333333333333' };

/** `rates`: what QEMU reports for each calculation in turn (MiB/s); null: it cannot measure. */
function setup(rates: number[] | null, history?: ActivityDeps['history'], rssKiB: number[] = [72208]) {
  let calc = 0;
  let balloonRead = 0;
  const calls: Array<[string, number, unknown]> = [];
  const statsAsked: number[] = [];
  const host = {
    lookupDomainByUuid: async (uuid: string) => {
      if (uuid !== WEB.uuid) throw Object.assign(new Error('Domain not found'), { code: 42 });
      return WEB;
    },
    domainStartDirtyRateCalc: async (d: DomainRef, seconds: number, ...rest: unknown[]) => {
      calls.push([d.name, seconds, rest[0]]);
      calc += 1;
      if (rates === null) throw new Error('this function is not supported by the connection driver');
    },
    connectGetAllDomainStats: async (doms: readonly DomainRef[], stats: number) => {
      statsAsked.push(stats);
      return stats === DomainStatsTypes.Balloon
        ? doms.map((d) => ({ domain: d, params: [param.ullong('balloon.current', 131072), param.ullong('balloon.rss', rssKiB[Math.min(balloonRead++, rssKiB.length - 1)]!)] }))
        : doms.map((d) => ({ domain: d, params: [param.int('dirtyrate.calc_status', 2), param.llong('dirtyrate.megabytes_per_second', rates?.[calc - 1] ?? 0)] }));
    },
  };
  const inventory = new Inventory([
    { name: 'host-c', uri: 'test:///c', peerUri: 'test:///c', rp: RP.c, linkMiBps: 1000 },
    { name: 'host-a', uri: 'test:///a', peerUri: 'test:///a', rp: RP.a },
  ]);
  const connections = { get: async () => host };
  const deps = { inventory, connections, ...(history ? { history } : {}) } as unknown as ActivityDeps;
  return { calls, statsAsked, facts: forecastFactsActivities(deps, { sleep: async () => undefined }) };
}

describe('gatherForecastFacts', () => {
  it("measures the guest by page sampling over 1 s then 2 s and reads the hosts' link speeds", async () => {
    const { calls, statsAsked, facts } = setup([48, 48]);
    const f = await facts.gatherForecastFacts({ vmUuid: WEB.uuid, source: 'host-c', destination: 'host-a' });
    // balloon.rss is in KiB: 72208 KiB is the resident set of a lab guest that wrote 32 MiB.
    expect(f).toEqual({ dirtyBps: 48 * MiB, workingSetBytes: null, dirtyEstimate: expect.stringMatching(/writes spreading$/), residentBytes: 72208 * 1024, pastMigrations: [], sourceLinkMiBps: 1000, destinationLinkMiBps: null });
    expect(calls).toEqual([['web-1', 1, undefined], ['web-1', 2, undefined]]);
    // The balloon stats first (the guest's size says how many pages QEMU samples) and last (the
    // resident set after the sampling: a spreading guest touched more meanwhile).
    expect(statsAsked[0]).toBe(DomainStatsTypes.Balloon);
    expect(statsAsked.at(-1)).toBe(DomainStatsTypes.Balloon);
    expect(statsAsked.filter((x) => x === DomainStatsTypes.DirtyRate).length).toBeGreaterThan(0);
  });

  it('the same memory seen in both windows is a working set (a guest rewriting 64 MiB reads 64 MiB/s, then 32), taken as hot', async () => {
    const { facts } = setup([64, 32]);
    const f = await facts.gatherForecastFacts({ vmUuid: WEB.uuid, source: 'host-c', destination: 'host-a' });
    expect(f).toMatchObject({ dirtyBps: 640 * MiB, workingSetBytes: 64 * MiB });
  });

  it('a first round that cannot tell (6 then 12 of 64 pages) is sampled again, up to three rounds, and read from all of them', async () => {
    const { calls, facts } = setup([12, 12, 16, 7, 18, 8]);
    const f = await facts.gatherForecastFacts({ vmUuid: WEB.uuid, source: 'host-c', destination: 'host-a' });
    expect(calls.map((c) => c[1])).toEqual([1, 2, 1, 2, 1, 2]);
    expect(f.workingSetBytes! / MiB).toBeGreaterThan(14);
    expect(f.dirtyEstimate).toMatch(/^3 sampling rounds saw the same 17 MiB dirty/);
  });

  it("the resident set is read after the sampling (a spreading guest touched more meanwhile); with the migration's plan, its size is the plan's", async () => {
    const grew = setup([12, 12, 16, 7, 18, 8], undefined, [40_000, 140_000]);
    expect((await grew.facts.gatherForecastFacts({ vmUuid: WEB.uuid, source: 'host-c', destination: 'host-a' })).residentBytes).toBe(140_000 * 1024);
    const planned = setup([48, 48]);
    const plan = { source: 'host-c', destination: 'host-a', memoryMiB: 128, limitMiBps: 100, policy: {}, postcopyEligible: true };
    const f = await planned.facts.gatherForecastFacts({ vmUuid: WEB.uuid, source: 'host-c', destination: 'host-a', plan });
    expect(planned.statsAsked.filter((x) => x === DomainStatsTypes.Balloon)).toHaveLength(1);
    expect(f.auto).toMatchObject({ kind: 'forecast' });
  });

  it('a QEMU that cannot measure gives null (the workflow refuses, naming it); an unknown host is refused', async () => {
    const { facts } = setup(null);
    expect((await facts.gatherForecastFacts({ vmUuid: WEB.uuid, source: 'host-c', destination: 'host-a' })).dirtyBps).toBeNull();
    await expect(facts.gatherForecastFacts({ vmUuid: WEB.uuid, source: 'host-c', destination: 'host-z' })).rejects.toThrow(/unknown host 'host-z'/);
  });

  it("reads the pair's recent completed migrations, for that pair; a visibility that fails leaves the forecast without them", async () => {
    const past = [{ workflowId: 'migration-1', jobMs: 1800, bytes: MiB, limitBps: null, mode: 'precopy' as const }];
    const asked: Array<[string, string, number]> = [];
    const { facts } = setup([1, 1], { pastMigrations: async (s, d, n) => { asked.push([s, d, n]); return past; } });
    const f = await facts.gatherForecastFacts({ vmUuid: WEB.uuid, source: 'host-c', destination: 'host-a' });
    expect(f.pastMigrations).toEqual(past);
    expect(asked).toEqual([['host-c', 'host-a', 10]]);
    const down = setup([1, 1], { pastMigrations: async () => { throw new Error('visibility unavailable'); } });
    expect((await down.facts.gatherForecastFacts({ vmUuid: WEB.uuid, source: 'host-c', destination: 'host-a' })).pastMigrations).toEqual([]);
  });
});
