import { describe, expect, it } from 'vitest';
import { ConvergencePolicySchema } from '../../../model/convergence-policy';
import { forecastDecision, policyForPick } from '../../../model/forecast/strategy-choice';
import { forecastMigrationStrategies } from '../../../model/forecast/strategy-forecast';

const MiB = 1024 * 1024;
const auto = ConvergencePolicySchema.parse({ strategy: 'auto', downtime: { maxMs: 500 } });

describe("strategy auto: the policy a pick follows, and the decision that records it", () => {
  it('pre-copy: post-copy only on a stall; post-copy after the first pass: the schedule; pause: the ladder as configured', () => {
    expect(policyForPick(auto, 'precopy').postcopy).toEqual({ allowed: true, afterIteration: 2, when: 'on-stall' });
    const onStall = ConvergencePolicySchema.parse({ strategy: 'auto', postcopy: { when: 'on-stall', afterIteration: 3 } });
    expect(policyForPick(onStall, 'postcopy-after-first-pass').postcopy).toEqual({ allowed: true, afterIteration: 3, when: 'after-iteration' });
    expect(policyForPick(auto, 'pause')).toBe(auto);
    // Only when post-copy is taken changes: the budget, ramp and pause rules stay the operator's.
    const { postcopy: _a, ...restPicked } = policyForPick(auto, 'precopy');
    const { postcopy: _b, ...restAuto } = auto;
    expect(restPicked).toEqual(restAuto);
    expect(auto.postcopy.when).toBe('after-iteration'); // the input is not changed
  });

  it('records every strategy, the pick and the predicted numbers of the picked one', () => {
    const f = forecastMigrationStrategies({ memoryBytes: 256 * MiB, dirtyBps: 2 * MiB, bandwidthBps: 32 * MiB, policy: auto, postcopyEligible: true });
    const d = forecastDecision(f, { memoryMiB: 256, dirtyBps: 2 * MiB, bandwidthBps: 32 * MiB, bandwidthSource: 'inventory', bandwidthDetail: 'the inventory' });
    const pre = f.strategies.find((s) => s.strategy === 'precopy')!;
    expect(d.inputs).toEqual({
      pick: 'precopy', dirtyBps: 2 * MiB, workingSetBytes: null, touchedBytes: null, bandwidthBps: 32 * MiB, bandwidthSource: 'inventory', budgetMs: 150_000,
      predictedTotalMs: Math.round(pre.totalMs), predictedDowntimeMs: Math.round(pre.downtimeMs!), predictedBytes: Math.round(pre.bytes),
    });
    expect(d.reason.startsWith('256 MiB guest dirtying 2.0 MiB/s, path 32.0 MiB/s (the inventory): precopy ')).toBe(true);
    expect(d.reason).toContain('; postcopy-after-first-pass ');
    expect(d.reason).toContain('; pause ');
    expect(d.reason.endsWith('-> precopy: pre-copy converges within the budget')).toBe(true);
    const hot = forecastDecision(f, { memoryMiB: 256, dirtyBps: 64 * MiB, workingSetBytes: 64 * MiB, bandwidthBps: 32 * MiB, bandwidthSource: 'inventory', bandwidthDetail: 'the inventory' });
    expect(hot.reason.startsWith('256 MiB guest dirtying 64.0 MiB/s over a 64 MiB working set, path 32.0 MiB/s (the inventory): ')).toBe(true);
    expect(hot.inputs.workingSetBytes).toBe(64 * MiB);
    // What holds data, when the host said (QEMU's resident set): named, and capped at the RAM.
    const resident = forecastDecision(f, { memoryMiB: 256, dirtyBps: 2 * MiB, touchedBytes: 40 * MiB, bandwidthBps: 32 * MiB, bandwidthSource: 'inventory', bandwidthDetail: 'the inventory' });
    expect(resident.reason.startsWith("256 MiB guest (40 MiB holding data, by QEMU's resident set) dirtying 2.0 MiB/s, path")).toBe(true);
    expect(resident.inputs.touchedBytes).toBe(40 * MiB);
    expect(forecastDecision(f, { memoryMiB: 256, dirtyBps: 2 * MiB, touchedBytes: 300 * MiB, bandwidthBps: 32 * MiB, bandwidthSource: 'inventory', bandwidthDetail: 'x' }).inputs.touchedBytes).toBe(256 * MiB);
  });

  it('names the strategies the policy rules out, and a refusal when nothing would finish', () => {
    const strict = ConvergencePolicySchema.parse({ strategy: 'auto', postcopy: { allowed: false }, pause: { allowed: false } });
    const f = forecastMigrationStrategies({ memoryBytes: 128 * MiB, dirtyBps: 40 * MiB, bandwidthBps: 10 * MiB, policy: strict, postcopyEligible: true });
    const d = forecastDecision(f, { memoryMiB: 128, dirtyBps: 40 * MiB, bandwidthBps: 10 * MiB, bandwidthSource: 'operator', bandwidthDetail: 'the request' });
    expect(d.inputs.pick).toBeNull();
    expect(d.inputs.predictedTotalMs).toBeNull();
    expect(d.reason).toContain('precopy not done in 150 s, over budget;');
    expect(d.reason).toContain('(not allowed)');
    expect(d.reason.endsWith('-> refuse: pre-copy would not converge, and neither post-copy nor pausing is allowed')).toBe(true);
  });
});
