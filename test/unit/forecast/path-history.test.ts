/**
 * What a host pair's recent completed migrations teach the forecast: the fixed costs (setup and
 * finish) and, lacking a link speed, the path's bandwidth. The numbers below are the lab's, from
 * bench/results/forecast-union-2026-12-01.json (host-a -> host-b at 45.7 MiB/s).
 */
import { describe, expect, it } from 'vitest';
import { fitPathHistory, fixedCosts, pastMigration, timingFromFixed, type PastMigration } from '../../../model/forecast/path-history';
import { LAB_TIMING } from '../../../model/sim/dirty-page-model';

const MiB = 1024 * 1024;
const LINK = 45.7 * MiB;
const past = (jobMs: number, mib: number, o: Partial<PastMigration> = {}): PastMigration => ({
  workflowId: `m-${jobMs}-${mib}`, jobMs, bytes: mib * MiB, limitBps: null, mode: 'precopy', ...o,
});

/** Measured on the lab: an idle guest, one writing below the link, one above it (post-copy), a hot set. */
const LAB = [past(2020, 1), past(3320, 82, { mode: 'postcopy' }), past(7030, 252, { mode: 'postcopy' }), past(2990, 53), past(6220, 179, { mode: 'postcopy' })];

describe("a host pair's recent migrations: its fixed costs", () => {
  it('reads the job time from the start decision to the job-ended one, and the bytes, from a completed outcome only', () => {
    const decisions = [{ atMs: 40, action: 'choose-destination' }, { atMs: 15_628, action: 'start' }, { atMs: 18_100, action: 'set-max-downtime' }, { atMs: 26_107, action: 'job-ended' }];
    const o = { migrationId: 'x', outcome: 'completed', mode: 'postcopy', bytes: 135_395_368, decisions };
    expect(pastMigration('w', o, 8)).toEqual({ workflowId: 'w', jobMs: 10_479, bytes: 135_395_368, limitBps: 8 * MiB, mode: 'postcopy' });
    expect(pastMigration('w', { ...o, outcome: 'rolled_back' }, null)).toBeNull();
    expect(pastMigration('w', { ...o, bytes: null }, null)).toBeNull();
    expect(pastMigration('w', { ...o, decisions: decisions.filter((d) => d.action !== 'job-ended') }, null)).toBeNull();
  });

  it("with the link's speed known: each migration's time less its transfer, the median of them", () => {
    const fit = fitPathHistory(LAB, LINK)!;
    // 2.02-0.02, 3.32-1.79, 7.03-5.51, 2.99-1.16, 6.22-3.92 s: the median is 1.83 s.
    expect(fit.fixedMs).toBeGreaterThan(1700);
    expect(fit.fixedMs).toBeLessThan(1950);
    expect(fit).toMatchObject({ fittedBps: null, n: 5 });
    expect(fit.detail).toMatch(/^fixed costs 1\.8 s, the median of the last 5 completed migrations between the hosts$/);
  });

  it('one odd migration (a post-copy whose page requests waited) moves the median little', () => {
    const odd = [...LAB, past(30_000, 120, { mode: 'postcopy' })];
    expect(Math.abs(fitPathHistory(odd, LINK)!.fixedMs - fitPathHistory(LAB, LINK)!.fixedMs)).toBeLessThan(400);
  });

  it("a migration under a bandwidth limit below the link moved at the limit: its transfer is counted at it", () => {
    const limited = past(1800 + (64 / 8) * 1000, 64, { limitBps: 8 * MiB });
    expect(fitPathHistory([limited], LINK)!.fixedMs).toBe(1800);
    // A limit above the link is no limit.
    expect(fitPathHistory([past(1800 + (64 * MiB / LINK) * 1000, 64, { limitBps: 1000 * MiB })], LINK)!.fixedMs).toBe(1800);
  });

  it('no link speed: the bandwidth is fitted from migrations of different sizes (Theil-Sen), then the fixed costs from it', () => {
    const fit = fitPathHistory(LAB, null)!;
    expect(fit.fittedBps! / MiB).toBeGreaterThan(40);
    expect(fit.fittedBps! / MiB).toBeLessThan(56);
    expect(fit.fixedMs).toBeGreaterThan(1300);
    expect(fit.fixedMs).toBeLessThan(2300);
    expect(fit.detail).toMatch(/the path fitted at \d+\.\d MiB\/s$/);
  });

  it("a post-copy under a limit teaches nothing (how much ran at the limit, how much at the link's speed, is unknown)", () => {
    const limitedPostcopy = past(10_542, 129, { limitBps: 8 * MiB, mode: 'postcopy' });
    expect(fitPathHistory([limitedPostcopy], LINK)).toBeNull();
    expect(fitPathHistory([...LAB, limitedPostcopy, limitedPostcopy], LINK)).toEqual(fitPathHistory(LAB, LINK));
  });

  it('nothing to learn from: no fit (no migration; no link speed and no two sizes apart); a fixed cost is never below zero', () => {
    expect(fitPathHistory([], LINK)).toBeNull();
    expect(fitPathHistory([past(2000, 1), past(2100, 8)], null)).toBeNull();
    expect(fitPathHistory([past(500, 64)], LINK)!.fixedMs).toBe(0);
  });

  it("the model's timing: the learned costs split as the lab's; without them, the lab's", () => {
    const t = timingFromFixed(1800);
    expect(t.setupMs + t.finishMs).toBe(1800);
    expect(t.setupMs / 1800).toBeCloseTo(LAB_TIMING.setupMs / (LAB_TIMING.setupMs + LAB_TIMING.finishMs), 3);
    expect(fixedCosts(null)).toMatchObject({ ms: 2500, source: 'lab-default', timing: LAB_TIMING });
    expect(fixedCosts(fitPathHistory(LAB, LINK))).toMatchObject({ source: 'history', timing: { setupMs: expect.any(Number) } });
  });
});
