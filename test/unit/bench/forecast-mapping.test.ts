import { describe, expect, it } from 'vitest';
import {
  fixedDowntime, forecastMappingFor, forecastPolicyFor, predictionFrom, type ForecastMapping,
} from '../../../bench/policy/forecast-mapping';
import { RAW_STRATEGIES } from '../../../bench/policy/strategies';
import { completionBudgetMs, ConvergencePolicySchema, DEFAULT_CONVERGENCE_POLICY } from '../../../model/convergence-policy';
import type { ForecastResult } from '../../../model/forecast/schemas';
import { rampedDowntimeMs } from '../../../model/forecast/strategy-forecast';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const small = { memoryBytes: 128 * MiB, budgetMs: 150_000 };

function forecast(over: Partial<ForecastResult> = {}): ForecastResult {
  const line = (strategy: ForecastResult['strategies'][number]['strategy'], completes: boolean, totalMs: number) => ({
    strategy, allowed: true, notAllowedBecause: null, completes, totalMs, downtimeMs: completes ? 300 : null, bytes: 1, iterations: 3, fitsBudget: completes,
  });
  return {
    vm: { name: 'g', uuid: '00000000-0000-4000-8000-000000000000', memoryMiB: 128 },
    source: 'host-a', destination: 'host-b', dirtyBps: 64 * MiB, workingSetBytes: null,
    bandwidth: { bps: 45 * MiB, source: 'operator', detail: '--bandwidth 45 MiB/s' },
    postcopyEligible: true, budgetMs: 150_000,
    strategies: [line('precopy', false, 150_000), line('postcopy-after-first-pass', true, 8_000), line('postcopy-at-once', true, 5_500), line('pause', true, 5_300)],
    pick: 'postcopy-after-first-pass', pickReason: 'pre-copy would not converge',
    ...over,
  };
}

describe('bench strategy -> forecast strategy', () => {
  it('maps the post-copy strategies to the same forecast strategy, at QEMU\'s 300 ms until the switch', () => {
    expect(forecastMappingFor('postcopy-at-once', small)).toMatchObject({ kind: 'strategy', strategy: 'postcopy-at-once', policy: { downtime: fixedDowntime(300) } });
    expect(forecastMappingFor('postcopy-after-pass', small)).toMatchObject({
      kind: 'strategy', strategy: 'postcopy-after-first-pass', policy: { downtime: fixedDowntime(300), postcopy: { afterIteration: 2 } },
    });
  });

  it("asks libvirt's default as pre-copy at a fixed 300 ms: the forecast's ramp then holds 300 ms at every iteration", () => {
    const m = forecastMappingFor('libvirt-default', small);
    expect(m).toMatchObject({ kind: 'strategy', strategy: 'precopy' });
    const policy = ConvergencePolicySchema.parse(forecastPolicyFor(m));
    for (const it of [0, 1, 2, 5, 20]) expect(rampedDowntimeMs(policy.downtime, it)).toBe(300);
  });

  it("maps Nova to pre-copy at its first step (50 ms) only while its second step comes after the budget", () => {
    // 128 MiB counts as 2 GiB: the second step at 150 s, not before the 150 s budget ends.
    const nova = forecastMappingFor('nova', small);
    expect(nova).toMatchObject({ kind: 'strategy', strategy: 'precopy', policy: { downtime: fixedDowntime(50) } });
    expect(forecastMappingFor('nova-force-complete', small)).toMatchObject({ kind: 'strategy', strategy: 'precopy', note: expect.stringMatching(/post-copy/) });
    // A budget that outlasts the second step: Nova's wall-clock steps are not the forecast's ramp.
    const long = forecastMappingFor('nova', { memoryBytes: 4 * GiB, budgetMs: 600_000 });
    expect(long.kind).toBe('none');
    expect(long.kind === 'none' && long.reason).toMatch(/wall clock \(every 300 s\)/);
  });

  it('leaves throttling and wall-clock downtime steps unmapped, with the reason', () => {
    for (const id of ['auto-converge', 'ovirt']) {
      const m = forecastMappingFor(id, small);
      expect(m.kind).toBe('none');
      expect(m.kind === 'none' && m.reason).toMatch(/throttl/);
      expect(forecastPolicyFor(m)).toBeNull();
    }
    const k = forecastMappingFor('kubevirt', small);
    expect(k.kind === 'none' && k.reason).toMatch(/every 10 s/);
  });

  it('has an explicit answer for every bench strategy and refuses an unknown one, naming the known', () => {
    for (const id of [...RAW_STRATEGIES.map((s) => s.id), 'ferry', 'ferry-auto']) expect(() => forecastMappingFor(id, small)).not.toThrow();
    expect(() => forecastMappingFor('vmware', small)).toThrow(/unknown bench strategy 'vmware'; known: ferry, ferry-auto/);
  });

  it("asks ferry's strategies with ferry's own policy (auto for ferry-auto)", () => {
    expect(forecastPolicyFor(forecastMappingFor('ferry', small))).toEqual({});
    expect(forecastPolicyFor(forecastMappingFor('ferry-auto', small))).toEqual({ strategy: 'auto' });
  });
});

describe('the prediction read from a forecast', () => {
  it("ferry's default is post-copy after the first pass when eligible, pre-copy with the ramp when not", () => {
    const m = forecastMappingFor('ferry', small);
    expect(predictionFrom(m, forecast())).toMatchObject({ strategy: 'postcopy-after-first-pass', totalMs: 8_000, completes: true });
    expect(predictionFrom(m, forecast({ postcopyEligible: false }))).toMatchObject({ strategy: 'precopy', totalMs: null, completes: false });
  });

  it("ferry-auto reads the forecast's pick, and says so when there is none", () => {
    const m = forecastMappingFor('ferry-auto', small);
    expect(predictionFrom(m, forecast())).toMatchObject({ strategy: 'postcopy-after-first-pass', totalMs: 8_000 });
    expect(predictionFrom(m, forecast({ pick: 'precopy' }))).toMatchObject({ strategy: 'precopy', completes: false, totalMs: null });
    expect(predictionFrom(m, forecast({ pick: null, pickReason: 'nothing allowed' }))).toMatchObject({ strategy: null, reason: 'no pick: nothing allowed' });
  });

  it('a strategy the forecast says does not complete has no predicted total', () => {
    const p = predictionFrom(forecastMappingFor('libvirt-default', small), forecast());
    expect(p).toMatchObject({ strategy: 'precopy', completes: false, totalMs: null, downtimeMs: null });
  });

  it('an unmapped strategy gives no prediction, with its reason', () => {
    const m: ForecastMapping = forecastMappingFor('auto-converge', small);
    expect(predictionFrom(m, forecast())).toMatchObject({ strategy: null, totalMs: null, reason: expect.stringMatching(/not modelled/) });
  });

  it('the default policy the cell computes the budget from is 150 s for a 128 MiB guest', () => {
    // The Nova mapping above relies on it: its second step (150 s) is not inside that budget.
    expect(completionBudgetMs(DEFAULT_CONVERGENCE_POLICY, 128)).toBe(small.budgetMs);
  });
});
