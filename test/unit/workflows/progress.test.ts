import { describe, expect, it } from 'vitest';
import { monotonicPercent, progressView, rawPercent } from '../../../model/progress';
import { progressLine, renderBar } from '../../../client/progress-bar';
import type { Progress } from '../../../model/types';

const MiB = 1024 * 1024;
const sample = (remainingMiB: number, over: Partial<Parameters<typeof progressView>[1]> = {}) => ({
  totalBytes: 512 * MiB,
  remainingBytes: remainingMiB * MiB,
  bandwidthBps: 100 * MiB,
  dirtyBps: 20 * MiB,
  iteration: 1,
  ...over,
});

describe('progress', () => {
  it('is 100 - 100*remaining/total', () => {
    expect(rawPercent(sample(128))).toBe(75);
    expect(rawPercent({ totalBytes: 0, remainingBytes: 0 })).toBe(0);
  });

  it('never goes backwards when a new iteration re-sends dirtied pages', () => {
    // remaining: 400 -> 100 -> (iteration 2 starts, remaining jumps) 300 -> 50 MiB
    let p = 0;
    const seen: number[] = [];
    for (const r of [400, 100, 300, 50]) {
      p = monotonicPercent(p, sample(r));
      seen.push(p);
    }
    expect(seen).toEqual([21, 80, 80, 90]);
  });

  it('holds at 99 until the migration is confirmed done', () => {
    expect(monotonicPercent(0, sample(0))).toBe(99);
    expect(monotonicPercent(99, sample(0), true)).toBe(100);
  });

  it('estimates ETA from the net drain rate and says when it cannot converge', () => {
    const v = progressView(0, sample(80));
    expect(v.etaMs).toBe(1000); // 80 MiB at (100-20) MiB/s
    expect(v.expectedDowntimeMs).toBe(800);
    const stuck = progressView(0, sample(80, { dirtyBps: 150 * MiB }));
    expect(stuck.converging).toBe(false);
    expect(stuck.etaMs).toBeNull();
    expect(renderBar({ phase: 'pre-copy', view: stuck, iteration: 3, dirtyBps: 150 * MiB, bandwidthBps: 100 * MiB }))
      .toContain('not converging');
  });
});

describe('progress line', () => {
  const base: Progress = {
    phase: 'claiming', percent: 0, etaMs: null, iteration: null, dataTotal: 0, dataRemaining: 0, bandwidthBps: null, dirtyBps: null,
    expectedDowntimeMs: null, verdict: null, mode: null, source: 'host-c', destination: 'host-a',
    startedAt: '2026-01-02T03:00:00.000Z', updatedAt: '2026-01-02T03:00:00.000Z',
  };

  it('says what waits for Placement, since when and what Placement said', () => {
    const line = progressLine({
      ...base, verdict: 'waiting for Placement',
      placementWait: { what: 'claiming host-a for web-7', error: 'Placement does not answer', since: '2026-01-02T03:04:05.000Z' },
    });
    expect(line).toContain('waiting for Placement (claiming host-a for web-7, since 2026-01-02T03:04:05.000Z: Placement does not answer)');
    expect(progressLine({ ...base, placementWait: null })).not.toContain('Placement');
  });

  it('says which limit a migration waits for admission on, since when and until when', () => {
    const line = progressLine({
      ...base, phase: 'admission', verdict: 'waiting for admission: limit into host-a: 2 of 2 run',
      admissionWait: { limit: 'limit into host-a: 2 of 2 run', since: '2026-01-02T03:04:05.000Z', until: '2026-01-02T03:19:05.000Z' },
    });
    expect(line).toBe('admission  waiting for admission: limit into host-a: 2 of 2 run (since 2026-01-02T03:04:05.000Z; refused if still waiting at 2026-01-02T03:19:05.000Z)');
    expect(progressLine({ ...base, admissionWait: null })).not.toContain('admission');
  });

  it("shows a block migration's disk copy, and nothing of disks without one", () => {
    const line = progressLine({ ...base, phase: 'pre-copy', percent: 40, disk: { totalBytes: 1024 * MiB, processedBytes: 300 * MiB, remainingBytes: 724 * MiB, bps: 50 * MiB } });
    expect(line).toContain('disk 300 of 1024 MiB copied at 50.0 MiB/s');
    expect(progressLine({ ...base, phase: 'pre-copy', percent: 40 })).not.toContain('disk');
  });
});
