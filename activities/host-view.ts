import type { HostDomainView } from '../model/activity-contract';
import type { FinishedJob, HostJob } from '../model/situation';
import type { ActivityDeps } from './deps';
import { lookupVm } from './domain-facts';
import { ErrorCode, isLibvirtError, JobStatsFlags, type DomainRef, type DomainStateInfo, type JobStats, type LibvirtClient } from './libvirt';

/**
 * What one host shows of the VM, for the situation table: the domain's state, its current job,
 * and (only when no job runs) the record of its last finished job, read with
 * COMPLETED|KEEP_COMPLETED so that it stays readable for the next look (finish reads it again).
 *
 * What libvirt 9.0 answers, as recorded on the lab (test/fixtures/job-stats):
 * - a destination refuses job stats during the whole incoming migration (OPERATION_UNSUPPORTED,
 *   "migration statistics are available only on the source host"): that refusal is its
 *   incoming job, not an unreachable host;
 * - the domain can vanish or stop between two calls (the incoming guest removed after an abort,
 *   the source QEMU stopped at the end): NO_DOMAIN means no domain, OPERATION_INVALID ("domain is
 *   not running") on job stats means it just stopped;
 * - plain job stats of a shut-off domain are refused: only the record is read there.
 *
 * Cost: 1 call without a domain, 3 with a running job (lookup, state, job stats), 3-4 without.
 */
export interface HostReading {
  view: HostDomainView;
  /** The current job's stats when they were read (the watch's progress figures: no second read). */
  jobStats?: JobStats;
}

export async function readHost(deps: ActivityDeps, host: string, vmUuid: string): Promise<HostReading> {
  let c: LibvirtClient;
  try {
    c = await deps.connections.get(host);
  } catch (err) {
    return { view: { reachable: false, domain: 'none', error: (err as Error).message } };
  }
  try {
    return await readDomain(c, vmUuid);
  } catch (err) {
    if (isLibvirtError(err, ErrorCode.NoDomain)) return { view: absent() };
    return { view: { reachable: false, domain: 'none', error: (err as Error).message } };
  }
}

export async function hostView(deps: ActivityDeps, host: string, vmUuid: string): Promise<HostDomainView> {
  return (await readHost(deps, host, vmUuid)).view;
}

const absent = (): HostDomainView => ({ reachable: true, domain: 'none', job: { type: 'none' } });

async function readDomain(c: LibvirtClient, vmUuid: string): Promise<HostReading> {
  const dom = await lookupVm(c, vmUuid);
  if (!dom) return { view: absent() };
  let st = await c.domainGetState(dom);
  let job: HostJob = { type: 'none' };
  let jobStats: JobStats | undefined;
  if (st.stateName !== 'shutoff') {
    const current = await currentJob(c, dom);
    if (current === 'stopped') st = await c.domainGetState(dom);
    else if ('incoming' in current) job = current.incoming;
    else {
      jobStats = current.stats;
      job = hostJobOf(current.stats);
    }
  }
  const view: HostDomainView = { reachable: true, domain: domainOf(st), job };
  if (job.type === 'none') {
    const finished = finishedJobOf(await c.domainGetJobStats(dom, JobStatsFlags.Completed | JobStatsFlags.KeepCompleted));
    if (finished) view.finishedJob = finished;
  } else if (job.type !== 'unbounded' && jobStats) {
    // The job ended a moment ago and libvirt still reports it as current: that is its record.
    const finished = finishedJobOf(jobStats);
    if (finished) view.finishedJob = finished;
  }
  return jobStats ? { view, jobStats } : { view };
}

async function currentJob(c: LibvirtClient, dom: DomainRef): Promise<{ stats: JobStats } | { incoming: HostJob } | 'stopped'> {
  try {
    return { stats: await c.domainGetJobStats(dom) };
  } catch (err) {
    // libvirt's qemuDomainGetJobStatsInternal refuses with this code only for an incoming migration.
    if (isLibvirtError(err, ErrorCode.OperationUnsupported)) return { incoming: { type: 'unbounded', operation: 'migration_in' } };
    if (isLibvirtError(err, ErrorCode.OperationInvalid)) return 'stopped';
    throw err;
  }
}

function domainOf(st: DomainStateInfo): Exclude<HostDomainView['domain'], 'none'> {
  const state = st.stateName === 'running' || st.stateName === 'paused' || st.stateName === 'shutoff' ? st.stateName : 'other';
  // Every domain ferry migrates is persistent (PERSIST_DEST; the source keeps its definition).
  return { state, reason: st.reasonName, persistent: true };
}

const JOB_TYPES: Record<string, HostJob['type']> = {
  None: 'none',
  Bounded: 'unbounded', // a job with a known end: still a running job
  Unbounded: 'unbounded',
  Completed: 'completed',
  Failed: 'failed',
  Cancelled: 'cancelled',
};

/** The current job as the table sees it, from plain virDomainGetJobStats. */
export function hostJobOf(stats: JobStats): HostJob {
  const job: HostJob = { type: JOB_TYPES[stats.typeName] ?? 'none' };
  if (stats.operationName !== undefined) job.operation = stats.operationName;
  if (stats.errmsg !== undefined) job.errorMessage = stats.errmsg;
  return job;
}

/**
 * The finished job's record (COMPLETED flag), or undefined when the host keeps none (type None:
 * libvirt 9.0 after an abort or a failed migration, and on a post-copy's destination).
 */
export function finishedJobOf(stats: JobStats): FinishedJob | undefined {
  const type = JOB_TYPES[stats.typeName];
  if (type !== 'completed' && type !== 'failed' && type !== 'cancelled') return undefined;
  const record: FinishedJob = { type };
  if (stats.operationName !== undefined) record.operation = stats.operationName;
  if (stats.errmsg !== undefined) record.errorMessage = stats.errmsg;
  if (stats.timeElapsedMs !== undefined) record.elapsedMs = stats.timeElapsedMs;
  if (stats.downtimeMs !== undefined) record.downtimeMs = stats.downtimeMs;
  if (stats.dataProcessed !== undefined) record.dataProcessed = stats.dataProcessed;
  if (stats.memoryIteration !== undefined) record.memoryIteration = stats.memoryIteration;
  if (stats.memoryPostcopyRequests !== undefined) record.postcopyRequests = stats.memoryPostcopyRequests;
  return record;
}
