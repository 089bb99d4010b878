import { describe, expect, it } from 'vitest';
import { ConvergencePolicySchema } from '../../../model/convergence-policy';
import { forecastMigrationStrategies, pickStrategy, rampedDowntimeMs, type StrategyForecast } from '../../../model/forecast/strategy-forecast';

const MiB = 1024 * 1024;
const policy = (p: object = {}) => ConvergencePolicySchema.parse(p);
const byName = (f: ReturnType<typeof forecastMigrationStrategies>, k: string) => f.strategies.find((s) => s.strategy === k)!;

describe('forecast: each strategy through the dirty-page model, and auto\'s pick', () => {
  it('a quiet guest: pre-copy converges in about RAM / bandwidth plus setup and finish, and auto picks it', () => {
    const f = forecastMigrationStrategies({ memoryBytes: 1024 * MiB, dirtyBps: 1 * MiB, bandwidthBps: 100 * MiB, policy: policy(), postcopyEligible: true });
    const pre = byName(f, 'precopy');
    expect(pre.completes).toBe(true);
    expect(pre.fitsBudget).toBe(true);
    // 1 GiB at 100 MiB/s is 10.24 s, plus 1 s setup and 1.5 s finish, plus a small re-send.
    expect(pre.totalMs).toBeGreaterThan(12_700);
    expect(pre.totalMs).toBeLessThan(13_500);
    expect(pre.downtimeMs).toBeLessThanOrEqual(900 + 20);
    expect(pre.bytes).toBeGreaterThanOrEqual(1024 * MiB);
    expect(f.pick).toBe('precopy');
  });

  it('a guest dirtying faster than the link: pre-copy runs out of budget, auto picks post-copy after the first pass', () => {
    const f = forecastMigrationStrategies({ memoryBytes: 1024 * MiB, dirtyBps: 200 * MiB, bandwidthBps: 100 * MiB, policy: policy(), postcopyEligible: true });
    const pre = byName(f, 'precopy');
    expect(pre.completes).toBe(false);
    expect(pre.fitsBudget).toBe(false);
    expect(pre.totalMs).toBe(f.budgetMs);
    expect(f.budgetMs).toBe(150_000);
    const post = byName(f, 'postcopy-after-first-pass');
    expect(post.completes).toBe(true);
    expect(post.downtimeMs).toBe(5);
    const atOnce = byName(f, 'postcopy-at-once');
    expect(atOnce.completes).toBe(true);
    expect(atOnce.totalMs).toBeLessThan(post.totalMs);
    expect(f.pick).toBe('postcopy-after-first-pass');
  });

  it('pause stops the guest for the whole copy: long downtime, but it finishes', () => {
    const f = forecastMigrationStrategies({ memoryBytes: 512 * MiB, dirtyBps: 200 * MiB, bandwidthBps: 100 * MiB, policy: policy(), postcopyEligible: true });
    const pause = byName(f, 'pause');
    expect(pause.completes).toBe(true);
    expect(pause.downtimeMs).toBeGreaterThan(5_000);
  });

  it('without post-copy eligibility auto falls back to pause; with pause forbidden too, it picks nothing', () => {
    const input = { memoryBytes: 1024 * MiB, dirtyBps: 200 * MiB, bandwidthBps: 100 * MiB, postcopyEligible: false };
    const f = forecastMigrationStrategies({ ...input, policy: policy() });
    expect(byName(f, 'postcopy-after-first-pass')).toMatchObject({ allowed: false, notAllowedBecause: expect.stringContaining('eligible') });
    expect(f.pick).toBe('pause');
    const g = forecastMigrationStrategies({ ...input, policy: policy({ pause: { allowed: false } }) });
    expect(g.pick).toBeNull();
  });

  it('a small working set caps re-dirtying: the same rate converges', () => {
    const f = forecastMigrationStrategies({
      memoryBytes: 1024 * MiB, dirtyBps: 200 * MiB, workingSetBytes: 32 * MiB, bandwidthBps: 100 * MiB, policy: policy(), postcopyEligible: true,
    });
    expect(f.pick).toBe('precopy');
  });

  it("pre-copy switches over at the max downtime ferry's ramp has set by then: a quiet guest early in the ramp, not at its ceiling", () => {
    const quiet = forecastMigrationStrategies({ memoryBytes: 256 * MiB, dirtyBps: 1 * MiB, bandwidthBps: 32 * MiB, policy: policy(), postcopyEligible: true });
    // 8 s of first pass leave 8 MiB dirtied (250 ms at 32 MiB/s): switched during pass 2, under its 200 ms.
    expect(byName(quiet, 'precopy').iterations).toBe(2);
    expect(byName(quiet, 'precopy').downtimeMs).toBeLessThanOrEqual(200 + 20);
    // The ramp: 100 ms when the job starts and in pass 1, then 100 ms more per pass up to 900.
    const d = policy().downtime;
    expect([1, 2, 3, 9, 10, 50].map((i) => rampedDowntimeMs(d, i))).toEqual([100, 200, 300, 900, 900, 900]);
    expect(rampedDowntimeMs(policy({ downtime: { initialMs: 300, maxMs: 300 } }).downtime, 5)).toBe(300);
  });

  it("a bandwidth limit holds in pre-copy only: post-copy after the first pass pulls the rest at the path's speed", () => {
    const input = { memoryBytes: 256 * MiB, dirtyBps: 40 * MiB, bandwidthBps: 100 * MiB, policy: policy(), postcopyEligible: true };
    const limited = forecastMigrationStrategies({ ...input, capBps: 10 * MiB });
    const slowPath = forecastMigrationStrategies({ ...input, bandwidthBps: 10 * MiB });
    expect(byName(limited, 'precopy').fitsBudget).toBe(false); // 40 MiB/s dirtied against 10 sent
    expect(limited.pick).toBe('postcopy-after-first-pass');
    // The first pass at 10 MiB/s in both (25.6 s); the rest at 100 MiB/s instead of 10.
    const post = (f: typeof limited) => byName(f, 'postcopy-after-first-pass').totalMs;
    expect(post(limited)).toBeGreaterThan(25_600);
    expect(post(slowPath) - post(limited)).toBeGreaterThan(15_000);
    expect(() => forecastMigrationStrategies({ ...input, capBps: 0 })).toThrow(/capBps/);
  });

  it('RAM that never held data migrates as zero pages: a guest with 40 of 128 MiB resident sends about 40 MiB, in about a third of the time', () => {
    const input = { memoryBytes: 128 * MiB, dirtyBps: 0, bandwidthBps: 32 * MiB, policy: policy(), postcopyEligible: true };
    const all = byName(forecastMigrationStrategies(input), 'precopy');
    const resident = byName(forecastMigrationStrategies({ ...input, touchedBytes: 40 * MiB }), 'precopy');
    expect(all.bytes / MiB).toBeCloseTo(128, 0);
    expect(resident.bytes / MiB).toBeCloseTo(40, 0);
    // setup and finish (2.5 s) + the data at 32 MiB/s: 4 s of copying for all of RAM, 1.25 s for 40 MiB.
    expect(all.totalMs).toBeCloseTo(2500 + 4000, -2);
    expect(resident.totalMs).toBeCloseTo(2500 + 1250, -2);
    // More than the RAM (QEMU's own memory counted in): all of RAM, no more.
    expect(byName(forecastMigrationStrategies({ ...input, touchedBytes: 300 * MiB }), 'precopy').bytes).toBeCloseTo(all.bytes, -3);
  });

  it('refuses a zero bandwidth or memory, naming it', () => {
    expect(() => forecastMigrationStrategies({ memoryBytes: 1024 * MiB, dirtyBps: 0, bandwidthBps: 0, policy: policy(), postcopyEligible: true })).toThrow(/bandwidthBps/);
    expect(() => forecastMigrationStrategies({ memoryBytes: 0, dirtyBps: 0, bandwidthBps: 1, policy: policy(), postcopyEligible: true })).toThrow(/memoryBytes/);
  });

  it('pickStrategy prefers pre-copy only when it fits', () => {
    const f = (strategy: StrategyForecast['strategy'], fitsBudget: boolean, allowed = true): StrategyForecast => ({
      strategy, allowed, notAllowedBecause: allowed ? null : 'no', completes: fitsBudget, totalMs: 1, downtimeMs: 1, bytes: 1, iterations: 1, fitsBudget,
    });
    expect(pickStrategy([f('precopy', true), f('postcopy-after-first-pass', true)]).pick).toBe('precopy');
    expect(pickStrategy([f('precopy', false), f('postcopy-after-first-pass', true)]).pick).toBe('postcopy-after-first-pass');
  });
});
