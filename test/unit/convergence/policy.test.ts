import { describe, expect, it } from 'vitest';
import {
  ConvergencePolicySchema, DEFAULT_CONVERGENCE_POLICY, completionBudgetMs, forceCompleteMeans,
} from '../../../workflows/convergence';

describe('convergence policy', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_CONVERGENCE_POLICY).toEqual({
      strategy: 'as-configured',
      postcopy: { allowed: true, afterIteration: 2, when: 'after-iteration' },
      downtime: { initialMs: 100, maxMs: 900, steps: 8, startAfterIteration: 2 },
      stall: { windowMs: 40_000, marginPct: 4 },
      completion: { secondsPerGiB: 150, minSeconds: 120, action: 'abort' },
      pause: { allowed: true },
      placement: { claimWaitSeconds: 600 },
      dataPath: { parallelConnections: 0, tls: false },
      admission: { maxOutOfHost: 2, maxIntoHost: 2, maxClusterWide: 4, waitSeconds: 900 },
      storage: { excludeDisks: [], freeSpaceMarginPct: 10 },
    });
  });

  it('takes any subset of overrides and defaults the rest', () => {
    const p = ConvergencePolicySchema.parse({ postcopy: { allowed: false }, completion: { action: 'force-complete' } });
    expect(p.postcopy).toEqual({ allowed: false, afterIteration: 2, when: 'after-iteration' });
    expect(p.completion).toEqual({ secondsPerGiB: 150, minSeconds: 120, action: 'force-complete' });
    expect(p.downtime).toEqual(DEFAULT_CONVERGENCE_POLICY.downtime);
  });

  it('refuses values that make no sense, naming the field', () => {
    const bad = (input: unknown, field: string) => {
      const r = ConvergencePolicySchema.safeParse(input);
      expect(r.success).toBe(false);
      expect(JSON.stringify(r.error?.issues)).toContain(field);
    };
    bad({ postcopy: { afterIteration: 1 } }, 'afterIteration'); // QEMU refuses post-copy before the job started
    bad({ downtime: { initialMs: 500, maxMs: 300 } }, 'maxMs');
    bad({ stall: { windowMs: 10 } }, 'windowMs');
    bad({ completion: { action: 'destroy' } }, 'action');
    bad({ strategy: 'fastest' }, 'strategy');
    bad({ postcopy: { when: 'later' } }, 'when');
  });

  it('budgets 150 s per GiB of guest memory (rounded up), at least minSeconds', () => {
    const p = DEFAULT_CONVERGENCE_POLICY;
    expect(completionBudgetMs(p, 256)).toBe(150_000);
    expect(completionBudgetMs(p, 1024)).toBe(150_000);
    expect(completionBudgetMs(p, 1025)).toBe(300_000);
    expect(completionBudgetMs(p, 16 * 1024)).toBe(2_400_000);
    const tight = ConvergencePolicySchema.parse({ completion: { secondsPerGiB: 10 } });
    expect(completionBudgetMs(tight, 2048)).toBe(120_000);
  });

  it('force-completes with post-copy, else a pause, else not at all', () => {
    const p = DEFAULT_CONVERGENCE_POLICY;
    expect(forceCompleteMeans(p, true)).toBe('start-postcopy');
    expect(forceCompleteMeans(p, false)).toBe('pause');
    const noPause = ConvergencePolicySchema.parse({ pause: { allowed: false } });
    expect(forceCompleteMeans(noPause, false)).toBeNull();
    expect(forceCompleteMeans(ConvergencePolicySchema.parse({ postcopy: { allowed: false }, pause: { allowed: false } }), true)).toBeNull();
  });
});
