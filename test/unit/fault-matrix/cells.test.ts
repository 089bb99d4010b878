import { describe, expect, it } from 'vitest';
import { ALL_CELLS, CI_CELLS, FAULT_IDS, PHASES, cellId, meaningful, parseCellId, uncovered } from '../../faults/matrix/cells';

describe('the fault matrix as data', () => {
  it('the covering set .ci/run runs has every fault and every phase at least once', () => {
    expect(uncovered(CI_CELLS)).toEqual({ faults: [], phases: [] });
  });

  it('uncovered names what a set leaves out (so the check above can fail)', () => {
    const withoutRecovery = CI_CELLS.filter((c) => c.phase !== 'recovery');
    expect(uncovered(withoutRecovery).phases).toEqual(['recovery']);
    expect(uncovered(withoutRecovery).faults).toEqual(['worker-kill']); // it runs at the recovery only
  });

  it('every covering cell is meaningful, distinct, and part of the whole matrix', () => {
    const ids = CI_CELLS.map(cellId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const c of CI_CELLS) {
      expect(meaningful(c)).toBe(true);
      expect(ALL_CELLS.map(cellId)).toContain(cellId(c));
    }
  });

  it('the whole matrix is every fault at every phase, but competing migrations only at the claim', () => {
    expect(ALL_CELLS.length).toBe((FAULT_IDS.length - 1) * PHASES.length + 1);
    expect(ALL_CELLS.filter((c) => c.fault === 'competing').map((c) => c.phase)).toEqual(['claim']);
  });

  it('a cell id names its fault and phase, and a wrong one is refused naming what is allowed', () => {
    expect(parseCellId('worker-kill@recovery')).toEqual({ fault: 'worker-kill', phase: 'recovery' });
    expect(() => parseCellId('worker-crash@recovery')).toThrow(/unknown fault 'worker-crash'.*faults: worker-kill, worker-kill-30s/);
    expect(() => parseCellId('worker-kill@boot')).toThrow(/unknown phase 'boot'.*phases: pre-checks, claim/);
  });
});
