/**
 * autoForecast: what `strategy: auto` records, computed from the host's facts and the migration's
 * plan (the gatherForecastFacts activity returns it, so the history holds the pick).
 */
import { describe, expect, it } from 'vitest';
import { AutoForecastSchema, autoForecast, ForecastPlanSchema, withAutoForecast } from '../../../model/forecast/auto-forecast';

const MiB = 1024 * 1024;
const plan = ForecastPlanSchema.parse({ source: 'host-a', destination: 'host-b', memoryMiB: 128, limitMiBps: null, policy: { strategy: 'auto' }, postcopyEligible: true });
const facts = (dirtyMiBps: number | null, linkMiBps: number | null) => ({
  dirtyBps: dirtyMiBps === null ? null : dirtyMiBps * MiB, sourceLinkMiBps: linkMiBps, destinationLinkMiBps: linkMiBps,
});

describe('autoForecast', () => {
  it('no dirty rate: no forecast, and why (the migration goes on as configured)', () => {
    expect(autoForecast(facts(null, 100), plan)).toEqual({
      kind: 'none', reason: "host-a could not measure the guest's dirty rate (QEMU's dirty-rate calculation) -> strategy as configured",
    });
  });

  it('no link speed and no limit: no forecast, naming the path', () => {
    const f = autoForecast(facts(1, null), plan);
    expect(f.kind).toBe('none');
    expect(f.kind === 'none' && f.reason).toMatch(/^no bandwidth known for host-a -> host-b/);
  });

  it('a quiet guest on a 100 MiB/s path: pre-copy, with the decision inputs; a hot one behind a 10 MiB/s limit: post-copy after the first pass', () => {
    const quiet = autoForecast(facts(1, 100), plan);
    expect(quiet).toMatchObject({ kind: 'forecast', pick: 'precopy', decision: { inputs: { pick: 'precopy', bandwidthSource: 'inventory', bandwidthBps: 100 * MiB } } });
    const hot = autoForecast(facts(40, null), { ...plan, limitMiBps: 10 });
    expect(hot).toMatchObject({ kind: 'forecast', pick: 'postcopy-after-first-pass', decision: { inputs: { bandwidthSource: 'operator', bandwidthBps: 10 * MiB } } });
    // What the activity returns passes the contract's schema (a forecast the guard would strip is lost).
    expect(AutoForecastSchema.parse(hot)).toEqual(hot);
  });

  it("QEMU's resident set, less QEMU's own share, is the RAM that holds data: an idle lab guest sends little, and is predicted so", () => {
    const idle = { ...facts(0, 45), residentBytes: 39 * MiB };
    const f = autoForecast(idle, plan);
    const all = autoForecast(facts(0, 45), plan);
    expect(f).toMatchObject({ kind: 'forecast', decision: { inputs: { touchedBytes: 7 * MiB } } });
    expect(all).toMatchObject({ kind: 'forecast', decision: { inputs: { touchedBytes: null } } });
    const total = (x: typeof f) => (x.kind === 'forecast' ? x.strategies.find((s) => s.strategy === 'precopy')!.totalMs : NaN);
    // 121 MiB fewer at 45 MiB/s: about 2.7 s less.
    expect(total(all) - total(f)).toBeGreaterThan(2_400);
  });

  it('a forecast recomputed for a run recorded before it was in the activity result uses the model of then (a page unsent and rewritten counted twice)', () => {
    const above = { dirtyBps: 1260 * MiB, workingSetBytes: 126 * MiB, sourceLinkMiBps: 45.7, destinationLinkMiBps: 45.7 };
    const total = (x: ReturnType<typeof autoForecast>) => (x.kind === 'forecast' ? x.strategies.find((s) => s.strategy === 'postcopy-after-first-pass')!.totalMs : NaN);
    // Post-copy after the first pass pulls the 126 MiB set once (now), or the set plus what was rewritten of it (then).
    expect(total(autoForecast(above, plan))).toBeCloseTo(8_160, -2);
    expect(total(autoForecast(above, plan, { recorded: true }))).toBeCloseTo(10_300, -2);
  });

  it('withAutoForecast: the facts alone without a plan; with one, the facts and the forecast', () => {
    expect(withAutoForecast(facts(1, 100), undefined)).toEqual(facts(1, 100));
    const withPlan = withAutoForecast(facts(1, 100), { source: 'host-a', destination: 'host-b', memoryMiB: 128, limitMiBps: null, policy: {}, postcopyEligible: true });
    expect(withPlan).toMatchObject({ ...facts(1, 100), auto: { kind: 'forecast', pick: 'precopy' } });
  });

  it("the pair's recent migrations: their fixed costs replace the lab's, and the decision says so; without a link speed they give the bandwidth", () => {
    const past = [
      { workflowId: 'm1', jobMs: 1800, bytes: 1 * MiB, limitBps: null, mode: 'precopy' as const },
      { workflowId: 'm2', jobMs: 1600 + 5000, bytes: 225 * MiB, limitBps: null, mode: 'precopy' as const },
    ];
    const lab = autoForecast(facts(0, 45), plan);
    const learned = autoForecast({ ...facts(0, 45), pastMigrations: past }, plan);
    if (lab.kind !== 'forecast' || learned.kind !== 'forecast') throw new Error('expected forecasts');
    const total = (f: typeof lab) => f.strategies.find((x) => x.strategy === 'precopy')!.totalMs;
    // 1.8 s and 1.6 s less their transfer at 45 MiB/s: 1.68 s learned instead of the lab's 2.5 s.
    expect(learned.decision.inputs.fixedCostsMs).toBe(1689);
    expect(total(lab) - total(learned)).toBeGreaterThan(700);
    expect(total(lab) - total(learned)).toBeLessThan(900);
    expect(learned.decision.reason).toMatch(/fixed costs 1\.7 s, the median of the last 2 completed migrations between the hosts/);
    expect(lab.decision.inputs).not.toHaveProperty('fixedCostsMs');

    const noLink = autoForecast({ ...facts(0, null), pastMigrations: past }, plan);
    expect(noLink).toMatchObject({ kind: 'forecast', decision: { inputs: { bandwidthSource: 'history' } } });
    expect(noLink.kind === 'forecast' && (noLink.decision.inputs.bandwidthBps as number) / MiB).toBeCloseTo(224 / 4.8, 0);
  });
});
