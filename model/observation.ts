/**
 * PURE: what the watch activity reports, derived from what the hosts showed. The activity reads
 * (domain views, job stats); these functions say what that means, so the meaning is tested
 * without a hypervisor.
 */
import type { HostDomainView, MigrationSample, WatchInput } from './activity-contract';
import { postcopyBegun } from './postcopy-recovery';

/** The job-stats figures the watch reads (libvirt's names, already converted to numbers). */
export interface JobFacts {
  active: boolean;
  timeElapsedMs?: number;
  memoryIteration?: number;
  dataTotal?: number;
  dataRemaining?: number;
  dataProcessed?: number;
  memoryBps?: number;
  /** Pages per second, and the page size to turn them into bytes. */
  memoryDirtyRate?: number;
  memoryPageSize?: number;
  /** While running: the downtime QEMU expects if it switched over now. */
  downtimeMs?: number;
  /** Block migration: the disks' mirror (already counted in the data figures by libvirt). */
  diskTotal?: number;
  diskProcessed?: number;
  diskRemaining?: number;
  diskBps?: number;
}

/** libvirt reports the dirty rate in pages per second; everything else in ferry speaks bytes. */
export function dirtyBytesPerSecond(job: Pick<JobFacts, 'memoryDirtyRate' | 'memoryPageSize'>): number | null {
  return job.memoryDirtyRate === undefined ? null : job.memoryDirtyRate * (job.memoryPageSize ?? 4096);
}

const domainOf = (v: HostDomainView) => (v.reachable && typeof v.domain === 'object' ? v.domain : undefined);

/**
 * The mode: post-copy when the source is paused for post-copy; 'paused' when someone paused the
 * guest during pre-copy (reason other than the migration's own switch-over pause); pre-copy once
 * data flows; setup before. With no job, the last mode stands (the end is judged from the views).
 */
export function toMigrationSample(
  source: HostDomainView,
  destination: HostDomainView,
  job: JobFacts | undefined,
  lastMode: MigrationSample['mode'],
): MigrationSample {
  const src = domainOf(source);
  const dst = domainOf(destination);
  const postcopyFailed = src?.reason === 'PostcopyFailed' || dst?.reason === 'PostcopyFailed';
  const running = job?.active === true;
  // Post-copy counts as begun only once the destination RUNS in post-copy: until its Finish step
  // started the vCPUs (about 50 ms after the source pauses, seen on the lab) libvirt still treats
  // the incoming guest as disposable, and no recovery is possible (model/postcopy-recovery.ts).
  const sourcePostcopy = src?.state === 'paused' && /Postcopy/.test(src.reason);
  const postcopy = postcopyBegun(source, destination);
  const paused = src?.state === 'paused' && !sourcePostcopy && src.reason !== 'Migration';
  const flowing = (job?.dataTotal ?? 0) > 0;
  const mode = postcopy ? 'postcopy' : paused ? 'paused' : running && flowing ? 'precopy' : running ? 'setup' : lastMode;
  return {
    job: running || postcopyFailed ? 'running' : 'ended',
    mode,
    elapsedMs: job?.timeElapsedMs ?? 0,
    iteration: job?.memoryIteration ?? null,
    dataTotal: job?.dataTotal ?? 0,
    dataRemaining: job?.dataRemaining ?? 0,
    dataProcessed: job?.dataProcessed ?? 0,
    memoryBps: job?.memoryBps ?? null,
    dirtyBps: job ? dirtyBytesPerSecond(job) : null,
    expectedDowntimeMs: job?.downtimeMs ?? null,
    // Only a job that copies disks reports them: samples of diskless guests stay as they were.
    ...(job?.diskTotal ? {
      disk: { totalBytes: job.diskTotal, processedBytes: job.diskProcessed ?? 0, remainingBytes: job.diskRemaining ?? 0, bps: job.diskBps ?? null },
    } : {}),
    postcopyFailed,
    source,
    destination,
  };
}

/** The watch returns to the workflow at these moments, and otherwise keeps sampling. */
export function isDecisionPoint(sample: MigrationSample, input: Pick<WatchInput, 'lastMode' | 'lastIteration' | 'maxWaitMs'>, waitedMs: number): boolean {
  return sample.job === 'ended'
    || sample.mode !== input.lastMode
    || sample.postcopyFailed
    || (sample.iteration !== null && sample.iteration !== input.lastIteration)
    || waitedMs >= input.maxWaitMs;
}

/**
 * An event a host reported about the VM, in the watch's terms. Events only say when to look
 * again: what the migration is doing is always read afresh (a missed or stale event then costs a
 * late look, never a wrong sample).
 */
export type WatchEvent =
  | { kind: 'migration-iteration'; iteration: number }
  | { kind: 'job-completed' }
  | { kind: 'lifecycle'; event: string; detail: string };

/**
 * Whether an event about the VM may mean a decision point, so the watch looks now instead of at
 * its deadline. A new pass on the source may be one; an iteration the workflow already has is
 * not. The end of a job (on either host: the destination reports an incoming migration's end
 * too) and any change of life cycle on either host (paused for post-copy, post-copy failed,
 * resumed after a failed migration, stopped, gone) may be one; the reading decides.
 */
export function isWorthALook(event: WatchEvent, on: 'source' | 'destination', input: Pick<WatchInput, 'lastIteration'>): boolean {
  switch (event.kind) {
    case 'migration-iteration':
      return on === 'source' && event.iteration !== input.lastIteration;
    case 'job-completed':
    case 'lifecycle':
      return true;
  }
}
