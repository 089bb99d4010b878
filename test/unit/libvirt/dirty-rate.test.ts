/**
 * The dirty-rate reading (dirtyrate.* stats) and the measurement over several guests: started on
 * each, read back once sampling is over, a calculation still running read again, a guest that
 * cannot be measured left null without holding back the others.
 */
import { describe, expect, it } from 'vitest';
import { measureDirtyRates } from '../../../activities/dirty-rates';
import { dirtyRateFromStats } from '../../../activities/libvirt/dirty-rate';
import { param, type TypedParam } from '../../../activities/libvirt/typed-params';
import type { DomainRef } from '../../../activities/libvirt';

const stats = (status: number, mib?: number): TypedParam[] => [
  param.int('dirtyrate.calc_status', status),
  param.llong('dirtyrate.calc_start_time', 45015),
  param.int('dirtyrate.calc_period', 1),
  ...(mib === undefined ? [] : [param.llong('dirtyrate.megabytes_per_second', mib)]),
];

describe('dirtyRateFromStats', () => {
  it('a finished calculation gives its MiB/s and period', () => {
    expect(dirtyRateFromStats(stats(2, 14))).toEqual({ status: 'measured', mibPerSecond: 14, periodSeconds: 1 });
  });
  it('a calculation still sampling, or never started, gives no rate', () => {
    expect(dirtyRateFromStats(stats(1))).toMatchObject({ status: 'measuring', mibPerSecond: null });
    expect(dirtyRateFromStats([])).toEqual({ status: 'unstarted', mibPerSecond: null, periodSeconds: null });
  });
});

const dom = (name: string, i: number): DomainRef => ({ name, uuid: `aaaaaaaa-0000-4000-8000-00000000000${i}`, id: i });

describe('measureDirtyRates', () => {
  it('starts every calculation, waits for the sampling, reads again what is still measuring', async () => {
    const [quiet, busy, gone] = [dom('quiet', 1), dom('busy', 2), dom('gone', 3)];
    const started: Array<[string, number]> = [];
    const slept: number[] = [];
    let reads = 0;
    const client = {
      async domainStartDirtyRateCalc(d: DomainRef, seconds: number) {
        if (d.name === 'gone') throw new Error('Domain not found');
        started.push([d.name, seconds]);
      },
      async connectGetAllDomainStats(doms: readonly DomainRef[]) {
        reads += 1;
        // busy's calculation finishes one read later than quiet's.
        return doms.map((d) => ({ domain: d, params: d.name === 'busy' && reads === 1 ? stats(1) : stats(2, d.name === 'busy' ? 300 : 0) }));
      },
    };
    const rates = await measureDirtyRates(client, [quiet, busy, gone], { seconds: 2, sleep: async (ms) => { slept.push(ms); } });
    expect(started).toEqual([['quiet', 2], ['busy', 2]]);
    expect(slept[0]).toBeGreaterThanOrEqual(2000);
    expect(reads).toBe(2);
    expect(rates.get(quiet.uuid)).toBe(0);
    expect(rates.get(busy.uuid)).toBe(300 * 1024 * 1024);
    expect(rates.get(gone.uuid)).toBeNull();
  });

  it('a calculation that never finishes is given up after the extra reads: null, never a wait without end', async () => {
    let reads = 0;
    const client = {
      async domainStartDirtyRateCalc() {},
      async connectGetAllDomainStats(doms: readonly DomainRef[]) {
        reads += 1;
        return doms.map((d) => ({ domain: d, params: stats(1) }));
      },
    };
    const rates = await measureDirtyRates(client, [dom('stuck', 1)], { extraReads: 3, sleep: async () => undefined });
    expect(reads).toBe(4);
    expect(rates.get(dom('stuck', 1).uuid)).toBeNull();
  });
});
