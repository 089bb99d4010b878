import { describe, expect, it } from 'vitest';
import type { RunMetrics } from '../../../bench/policy/cell';
import { formatTable, summarizeCells } from '../../../bench/policy/report';

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
