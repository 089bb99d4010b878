import { describe, expect, it } from 'vitest';
import type { RunForecast, RunMetrics } from '../../../bench/policy/cell';
import { forecastOfCell, formatForecastTable, formatTable, summarizeCells } from '../../../bench/policy/report';

function run(over: Partial<RunMetrics>): RunMetrics {
  return {
    guest: 'above', strategy: 'x', run: 1, outcome: 'completed', why: null, mode: 'precopy', totalMs: 10_000, downtimeMs: 100,
    guestStallMs: 120, bytes: 200 * 1048576, iterations: 3, degradedMs: 0, actions: [], ...over,
  };
}

describe('policy bench report', () => {
  it('folds runs into cells: median and spread, the ratio to the limit over completed runs only', () => {
    const cells = summarizeCells([
      run({ strategy: 'ferry', totalMs: 6_000, run: 1 }),
      run({ strategy: 'ferry', totalMs: 5_000, run: 2, mode: 'postcopy' }),
      run({ strategy: 'ferry', totalMs: 7_000, run: 3, mode: 'postcopy' }),
      run({ strategy: 'libvirt-default', totalMs: 54_000, outcome: 'capped', downtimeMs: null }),
      run({ strategy: 'libvirt-default', totalMs: 54_100, outcome: 'capped', downtimeMs: null, run: 2 }),
    ], 2_700);
    const ferry = cells.find((c) => c.strategy === 'ferry')!;
    expect(ferry.completed).toBe(3);
    expect(ferry.totalMs).toEqual({ median: 6_000, min: 5_000, max: 7_000, n: 3 });
    expect(ferry.ratioToLimit).toBeCloseTo(6_000 / 2_700, 6);
    expect(ferry.modes).toBe('1 precopy, 2 postcopy');
    const lv = cells.find((c) => c.strategy === 'libvirt-default')!;
    expect(lv.completed).toBe(0);
    expect(lv.ratioToLimit).toBeNull();
    expect(lv.downtimeMs).toBeNull();
    expect(lv.outcomes).toBe('2 capped');
    const table = formatTable(cells, { physicalLimitMs: 2_700, bandwidthMiBps: 47.4, capMs: 54_000 });
    expect(table).toMatch(/libvirt-default\s+0\/2\s+54\.1 \[54\.0-54\.1\]\s+>20/);
    expect(table).toMatch(/ferry\s+3\/3\s+6\.00 \[5\.00-7\.00\]\s+2\.22/);
  });
});

function forecast(over: Partial<RunForecast>): RunForecast {
  return {
    strategy: 'precopy', predictedTotalMs: 5_000, completes: true, predictedDowntimeMs: 300, reason: 'same strategy',
    dirtyBps: 12 * 1048576, workingSetBytes: null, bandwidthBps: 45 * 1048576, budgetMs: 150_000, pick: 'precopy', lines: [], tookMs: 3_100, ...over,
  };
}

describe('policy bench report: forecast against measured', () => {
  it('the error is (predicted - measured) / measured from the two medians, the mean of the middle two for 2 runs', () => {
    const f = forecastOfCell([
      run({ totalMs: 4_000, forecast: forecast({ predictedTotalMs: 5_000 }) }),
      run({ totalMs: 6_000, run: 2, forecast: forecast({ predictedTotalMs: 6_000, dirtyBps: 14 * 1048576, workingSetBytes: 64 * 1048576 }) }),
    ], 56_000)!;
    expect(f.predictedTotalMs).toEqual({ median: 5_500, min: 5_000, max: 6_000, n: 2 });
    expect(f.measuredTotalMs?.median).toBe(5_000);
    expect(f.errorPct).toBeCloseTo(10, 6);
    expect(f.verdict).toBe('within 25 %');
    expect(f.dirtyMiBps?.median).toBe(13);
    expect(f.workingSetMiB).toEqual({ median: 64, min: 64, max: 64, n: 1 });
    // One run of two saw a working set: the table says the other assumed all of RAM.
    const table = formatForecastTable(summarizeCells([
      run({ totalMs: 4_000, forecast: forecast({ predictedTotalMs: 5_000 }) }),
      run({ totalMs: 6_000, run: 2, forecast: forecast({ predictedTotalMs: 6_000, workingSetBytes: 64 * 1048576 }) }),
    ], 2_800, 56_000), { capMs: 56_000, bandwidthMiBps: 45.7 });
    expect(table).toMatch(/\+10\s+within 25 %\s+12\.0\s+64 \(1\/2, else all RAM\)/);
  });

  it('an error beyond 25 % either way is a miss', () => {
    const over = forecastOfCell([run({ totalMs: 3_000, forecast: forecast({ predictedTotalMs: 6_000 }) })], 56_000)!;
    expect(over.errorPct).toBeCloseTo(100, 6);
    expect(over.verdict).toBe('miss: error over 25 %');
    const under = forecastOfCell([run({ totalMs: 10_000, forecast: forecast({ predictedTotalMs: 7_000 }) })], 56_000)!;
    expect(under.errorPct).toBeCloseTo(-30, 6);
    expect(under.verdict).toBe('miss: error over 25 %');
  });

  it('a cell that did not finish: a match when the forecast said not done in its budget or past the cap, a miss when it predicted a finish', () => {
    const capped = { outcome: 'capped' as const, totalMs: 57_000, downtimeMs: null };
    const notDone = forecastOfCell([run({ ...capped, forecast: forecast({ completes: false, predictedTotalMs: null }) })], 56_000)!;
    expect(notDone.verdict).toBe('match: not done');
    expect(notDone.predictedNotDone).toBe(1);
    expect(notDone.errorPct).toBeNull();
    const pastCap = forecastOfCell([run({ ...capped, forecast: forecast({ predictedTotalMs: 80_000 }) })], 56_000)!;
    expect(pastCap.verdict).toBe('match: not done');
    const wrong = forecastOfCell([run({ ...capped, forecast: forecast({ predictedTotalMs: 9_000 }) })], 56_000)!;
    expect(wrong.verdict).toBe('miss: predicted done');
  });

  it('a finished cell the forecast said would not finish is a miss; an unmapped cell says why', () => {
    expect(forecastOfCell([run({ forecast: forecast({ completes: false, predictedTotalMs: null }) })], 56_000)!.verdict).toBe('miss: predicted not done');
    const none = forecastOfCell([run({ forecast: forecast({ strategy: null, predictedTotalMs: null, completes: false, reason: 'throttling is not modelled' }) })], 56_000)!;
    expect(none).toMatchObject({ verdict: 'no forecast', unmapped: 'throttling is not modelled', strategy: '-', predictedRuns: 0 });
    expect(forecastOfCell([run({})], 56_000)).toBeNull();
  });

  it("ferry-auto's cell shows the picks read and what the workflow itself picked", () => {
    const auto = { pick: 'precopy', predictedTotalMs: 6_300, dirtyBps: 1, workingSetBytes: null, reason: 'r' };
    const f = forecastOfCell([
      run({ strategy: 'ferry-auto', forecast: forecast({ strategy: 'precopy' }), auto }),
      run({ strategy: 'ferry-auto', run: 2, forecast: forecast({ strategy: 'postcopy-after-first-pass' }), auto: { ...auto, pick: 'postcopy-after-first-pass' } }),
    ], 56_000)!;
    expect(f.strategy).toBe('precopy x1, postcopy-after-first-pass x1');
    expect(f.workflowPicks).toBe('precopy x1, postcopy-after-first-pass x1');
  });

  it('prints the forecast table and counts the cells within 25 % and the not-done cells called', () => {
    const cells = summarizeCells([
      run({ guest: 'below', strategy: 'libvirt-default', totalMs: 4_000, forecast: forecast({ predictedTotalMs: 4_400 }) }),
      run({ guest: 'idle', strategy: 'libvirt-default', totalMs: 2_500, forecast: forecast({ predictedTotalMs: 5_300 }) }),
      run({ guest: 'above', strategy: 'libvirt-default', outcome: 'capped', totalMs: 57_000, downtimeMs: null, forecast: forecast({ completes: false, predictedTotalMs: null }) }),
      run({ guest: 'above', strategy: 'ovirt', outcome: 'capped', totalMs: 57_000, downtimeMs: null, forecast: forecast({ strategy: null, predictedTotalMs: null, completes: false, reason: 'not modelled' }) }),
    ], 2_800, 56_000);
    expect(cells.find((c) => c.guest === 'below')!.forecast!.errorPct).toBeCloseTo(10, 6);
    const table = formatForecastTable(cells, { capMs: 56_000, bandwidthMiBps: 45.7 });
    expect(table).toMatch(/below\s+libvirt-default\s+precopy\s+4\.40\s+4\.00\s+\+10\s+within 25 %\s+12\.0\s+all RAM/);
    expect(table).toMatch(/idle\s+libvirt-default\s+precopy\s+5\.30\s+2\.50\s+\+112\s+miss: error over 25 %/);
    expect(table).toMatch(/above\s+libvirt-default\s+precopy\s+not done in 150 s\s+not done \(1 capped\)\s+-\s+match: not done/);
    expect(table).toMatch(/above\s+ovirt\s+-\s+-\s+not done \(1 capped\)\s+-\s+no forecast\s+-\s+-\s+not modelled/);
    expect(table).toMatch(/1 of 2 finished cells within 25 %; 1 of 1 not-done cells predicted not done within the cap$/);
  });
});
