import { describe, expect, it } from 'vitest';
import type { HostDomainView } from '../../../model/activity-contract';
import { isDecisionPoint, isWorthALook, toMigrationSample, type JobFacts } from '../../../model/observation';

const dom = (state: 'running' | 'paused' | 'shutoff', reason: string): HostDomainView =>
  ({ reachable: true, domain: { state, reason, persistent: true }, job: { type: 'none' } });
const none: HostDomainView = { reachable: true, domain: 'none', job: { type: 'none' } };
const MiB = 1024 * 1024;
const flowing: JobFacts = { active: true, dataTotal: 128 * MiB, dataRemaining: 40 * MiB, dataProcessed: 90 * MiB, memoryIteration: 2, memoryBps: 20 * MiB, memoryDirtyRate: 512, memoryPageSize: 4096 };

describe('what the watch reports', () => {
  it('is setup before data flows, pre-copy once it does, with the dirty rate in bytes/s', () => {
    expect(toMigrationSample(dom('running', 'Booted'), dom('paused', 'Migration'), { active: true }, 'setup').mode).toBe('setup');
    const s = toMigrationSample(dom('running', 'Booted'), dom('paused', 'Migration'), flowing, 'setup');
    expect(s).toMatchObject({ job: 'running', mode: 'precopy', iteration: 2, dirtyBps: 2 * MiB, postcopyFailed: false });
  });

  it('is post-copy when the source is paused for post-copy, and flags a broken post-copy on either host', () => {
    expect(toMigrationSample(dom('paused', 'Postcopy'), dom('running', 'Postcopy'), flowing, 'precopy').mode).toBe('postcopy');
    const broken = toMigrationSample(dom('paused', 'PostcopyFailed'), dom('running', 'PostcopyFailed'), undefined, 'postcopy');
    expect(broken).toMatchObject({ job: 'running', mode: 'postcopy', postcopyFailed: true });
  });

  it('is paused when the guest was paused during pre-copy, not at the switch-over pause', () => {
    expect(toMigrationSample(dom('paused', 'User'), none, flowing, 'precopy').mode).toBe('paused');
    expect(toMigrationSample(dom('paused', 'Migration'), dom('paused', 'Migration'), flowing, 'precopy').mode).toBe('precopy');
  });

  it('has ended when no job runs, keeping the last mode (the end is judged from both views)', () => {
    const s = toMigrationSample(dom('shutoff', 'Migrated'), dom('running', 'Migrated'), undefined, 'postcopy');
    expect(s).toMatchObject({ job: 'ended', mode: 'postcopy', iteration: null, dataTotal: 0 });
  });

  it('returns to the workflow at a new iteration, a new mode, the end, a broken post-copy, or the wait limit', () => {
    const base = { lastMode: 'precopy' as const, lastIteration: 2, maxWaitMs: 2000 };
    const s = toMigrationSample(dom('running', 'Booted'), none, flowing, 'precopy');
    expect(isDecisionPoint(s, base, 100)).toBe(false);
    expect(isDecisionPoint(s, { ...base, lastIteration: 1 }, 100)).toBe(true);
    expect(isDecisionPoint(s, { ...base, lastMode: 'setup' }, 100)).toBe(true);
    expect(isDecisionPoint(s, base, 2000)).toBe(true);
    expect(isDecisionPoint({ ...s, job: 'ended' }, base, 100)).toBe(true);
    expect(isDecisionPoint({ ...s, postcopyFailed: true }, base, 100)).toBe(true);
  });
});

describe('which events call for a look', () => {
  const input = { lastIteration: 3 };
  it('a new pass on the source does; one the workflow already has, or one reported by the destination, does not', () => {
    expect(isWorthALook({ kind: 'migration-iteration', iteration: 4 }, 'source', input)).toBe(true);
    expect(isWorthALook({ kind: 'migration-iteration', iteration: 3 }, 'source', input)).toBe(false);
    expect(isWorthALook({ kind: 'migration-iteration', iteration: 1 }, 'source', { lastIteration: null })).toBe(true);
    expect(isWorthALook({ kind: 'migration-iteration', iteration: 4 }, 'destination', input)).toBe(false);
  });

  it('the end of a job and any change of life cycle do, on either host', () => {
    for (const on of ['source', 'destination'] as const) {
      expect(isWorthALook({ kind: 'job-completed' }, on, input)).toBe(true);
      expect(isWorthALook({ kind: 'lifecycle', event: 'Suspended', detail: 'Postcopy' }, on, input)).toBe(true);
      expect(isWorthALook({ kind: 'lifecycle', event: 'Stopped', detail: 'Failed' }, on, input)).toBe(true);
    }
  });
});
