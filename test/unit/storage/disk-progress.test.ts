/**
 * A block migration's progress and budget: the disk figures in the sample, a total that counts
 * the RAM libvirt has not started yet (so the percent neither races nor runs backwards), and a
 * completion budget sized on memory plus copied disks.
 */
import { describe, expect, it } from 'vitest';
import type { HostDomainView } from '../../../model/activity-contract';
import { toMigrationSample } from '../../../model/observation';
import { monotonicPercent } from '../../../model/progress';
import { withPlannedTotal } from '../../../model/storage/disk-progress';
import { ConvergencePolicySchema, decide, initialControllerState, type ConvergenceSample } from '../../../workflows/convergence';
import { samplesOf, loadTrace, TRACES } from '../convergence/traces';

const MiB = 2 ** 20;
const up = { reachable: true, domain: { state: 'running', reason: 'Migrated' } } as unknown as HostDomainView;

describe('disk figures in the sample', () => {
  it('a job that copies disks reports them; a diskless job has none', () => {
    const job = { active: true, dataTotal: 1200 * MiB, dataRemaining: 900 * MiB, dataProcessed: 300 * MiB, diskTotal: 1024 * MiB, diskProcessed: 300 * MiB, diskRemaining: 724 * MiB, diskBps: 50 * MiB };
    expect(toMigrationSample(up, up, job, 'setup').disk).toEqual({ totalBytes: 1024 * MiB, processedBytes: 300 * MiB, remainingBytes: 724 * MiB, bps: 50 * MiB });
    expect(toMigrationSample(up, up, { active: true, dataTotal: 128 * MiB, dataRemaining: 64 * MiB }, 'setup').disk).toBeUndefined();
  });
});

describe('withPlannedTotal', () => {
  const planned = 128 * MiB + 1024 * MiB;
  it('while only the disk mirror runs, the RAM still to come is in the total and the remaining', () => {
    // libvirt: 1 GiB disk, 800 MiB of it copied, RAM not started.
    const f = withPlannedTotal({ dataTotal: 1024 * MiB, dataRemaining: 224 * MiB }, planned);
    expect(f).toEqual({ totalBytes: planned, remainingBytes: 352 * MiB });
    // A naive percent would say 78 %, then drop when the RAM joins the total.
    expect(monotonicPercent(0, { ...f, bandwidthBps: null, dirtyBps: null, iteration: null })).toBe(69);
  });
  it('once the RAM is in the job\'s total, the job\'s own figures stand', () => {
    expect(withPlannedTotal({ dataTotal: planned, dataRemaining: 40 * MiB }, planned)).toEqual({ totalBytes: planned, remainingBytes: 40 * MiB });
  });
});

describe('completion budget with copied disks', () => {
  it('counts the copied disks with the memory: the same trace is over budget later', () => {
    const policy = ConvergencePolicySchema.parse({ postcopy: { allowed: false }, completion: { secondsPerGiB: 20, minSeconds: 20 } });
    const firstAbort = (samples: ConvergenceSample[]) => {
      let state = initialControllerState(policy);
      for (const s of samples) {
        const d = decide(policy, state, s);
        state = d.state;
        if (d.actions.some((a) => a.kind === 'abort')) return { atMs: s.atMs, reason: d.reason };
      }
      return null;
    };
    const samples = samplesOf(loadTrace(TRACES.neverConverges));
    const memoryOnly = firstAbort(samples)!;
    // 256 MiB of memory: 1 GiB, 20 s. With 1000 MiB of copied disks: 2 GiB, 40 s; with 2 GiB: 3 GiB, 60 s (the trace's job ends before).
    const withDisk = firstAbort(samples.map((s) => ({ ...s, diskCopyMiB: 1000 })))!;
    expect(memoryOnly.atMs).toBeLessThanOrEqual(21_000);
    expect(withDisk.atMs).toBeGreaterThan(40_000);
    expect(withDisk.reason).toMatch(/past the completion budget of 40 s \(20 s\/GiB × 2 GiB of memory and copied disks/);
    expect(firstAbort(samples.map((s) => ({ ...s, diskCopyMiB: 2048 })))).toBeNull();
  });
});
