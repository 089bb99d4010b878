/**
 * libvirt 9.0's real replies (test/fixtures/job-stats, recorded on the lab) -> hostView -> job view
 * -> the situation table. The replies go through a fake libvirtd, so the real RPC client parses
 * them and the real hostView decides what to read next.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finishedJobOf, hostJobOf, hostView } from '../../../activities/host-view';
import { JobStatsFlags, parseJobStats, param } from '../../../activities/libvirt';
import type { HostDomainView } from '../../../model/activity-contract';
import { classifySituation, jobViewOf, type Situation } from '../../../model/situation';
import { loadFixture, momentsOf, startReplayPair, statsOf, VM, type HostSnapshot, type RecordedReply } from './replay';

const KEEP = JobStatsFlags.Completed | JobStatsFlags.KeepCompleted;

const EXPECTED: Record<string, Situation[]> = {
  precopy: ['precopy-in-progress', 'switchover-in-progress', 'switched-over-source-not-cleaned'],
  postcopy: ['precopy-in-progress', 'postcopy-running', 'switchover-in-progress', 'switched-over-source-not-cleaned'],
  'paused-guest': ['precopy-in-progress', 'switchover-in-progress', 'switched-over-source-not-cleaned'],
  abort: ['precopy-in-progress', 'not-started-or-rolled-back'],
  'dest-destroyed': ['precopy-in-progress', 'not-started-or-rolled-back'],
  'abort-after-arrival': ['precopy-in-progress', 'not-started-or-rolled-back'],
};

const typeOf = (r: RecordedReply) => ('error' in r ? `error ${r.code}` : r.typeName);

/** The GetJobStats calls hostView should make for a snapshot: its RPC budget. */
function expectedJobStatsCalls(s: HostSnapshot): number[] {
  if (s.state === 'none' || s.state.startsWith('error: ')) return [];
  if (s.state.startsWith('shutoff')) return [KEEP];
  const current = typeOf(s.current);
  // A job runs (or the destination's incoming one), or the ended job is still reported: one read.
  if (['Unbounded', 'error OperationUnsupported', 'Failed', 'Cancelled'].includes(current)) return [0];
  return [0, KEEP];
}

describe('hostView and the table on the recorded replies', () => {
  let pair: Awaited<ReturnType<typeof startReplayPair>>;
  beforeAll(async () => {
    pair = await startReplayPair();
  });
  afterAll(async () => {
    await pair?.stop();
  });

  /** Shows the snapshots on the fake hosts and reads both the way the activities do. */
  async function look(source: HostSnapshot, destination: HostSnapshot) {
    pair.source.snapshot = source;
    pair.destination.snapshot = destination;
    const before = { source: pair.source.jobStatsCalls().length, destination: pair.destination.jobStatsCalls().length };
    const views = {
      source: await hostView(pair.deps, 'host-a', VM.uuid),
      destination: await hostView(pair.deps, 'host-b', VM.uuid),
    };
    const calls = {
      source: pair.source.jobStatsCalls().slice(before.source),
      destination: pair.destination.jobStatsCalls().slice(before.destination),
    };
    return { views, calls };
  }

  it.each(Object.entries(EXPECTED))('%s: the situation follows the migration', async (name, expected) => {
    const seen: Situation[] = [];
    for (const moment of momentsOf(loadFixture(name))) {
      const { views, calls } = await look(moment.source, moment.destination);
      // libvirt answered every call: no host may look unreachable (the incoming guest's refusal
      // of job stats and the races between two calls included).
      expect([views.source.error, views.destination.error]).toEqual([undefined, undefined]);
      expect(calls.source).toEqual(expectedJobStatsCalls(moment.source));
      expect(calls.destination).toEqual(expectedJobStatsCalls(moment.destination));
      const verdict = classifySituation(views.source, views.destination, jobViewOf(views.source, views.destination));
      if (seen[seen.length - 1] !== verdict.situation) seen.push(verdict.situation);
    }
    expect(seen).toEqual(expected);
  });

  it("a destination's refusal of job stats is its incoming migration (precopy.json)", async () => {
    const m = loadFixture('precopy').during.find((d) => d.destination.state === 'paused (Migration)' && d.source.state === 'running (Booted)')!;
    const { views } = await look(m.source, m.destination);
    expect(views.destination).toEqual({
      reachable: true, domain: { state: 'paused', reason: 'Migration', persistent: true }, job: { type: 'unbounded', operation: 'migration_in' },
    });
    expect(views.source.job).toEqual({ type: 'unbounded', operation: 'migration_out' });
  });

  it('after a pre-copy both hosts keep the record; the figures are libvirt\'s (precopy.json)', async () => {
    const f = loadFixture('precopy');
    const m = momentsOf(f).at(-1)!;
    const { views } = await look(m.source, m.destination);
    const params = (f.after.source.completedKeep1 as Extract<RecordedReply, { params: unknown }>).params;
    expect(views.source.finishedJob).toEqual({
      type: 'completed', operation: 'migration_out', elapsedMs: params.time_elapsed, downtimeMs: params.downtime,
      dataProcessed: params.data_processed, memoryIteration: params.memory_iteration, postcopyRequests: 0,
    });
    expect(views.destination.finishedJob).toMatchObject({ type: 'completed', operation: 'migration_in' });
    const verdict = classifySituation(views.source, views.destination);
    expect(verdict.job).toMatchObject({ type: 'completed', from: "the source's finished-job record" });
  });

  it('after a post-copy only the source keeps a record (postcopy.json)', async () => {
    const m = momentsOf(loadFixture('postcopy')).at(-1)!;
    const { views } = await look(m.source, m.destination);
    expect(views.source.finishedJob).toMatchObject({ type: 'completed', operation: 'migration_out' });
    expect(views.source.finishedJob!.postcopyRequests).toBeGreaterThan(0);
    expect(views.destination.finishedJob).toBeUndefined();
  });

  it('after an abort or a failure no record is kept: the job view is none (abort.json, dest-destroyed.json)', async () => {
    for (const name of ['abort', 'dest-destroyed']) {
      const m = momentsOf(loadFixture(name)).at(-1)!;
      const { views } = await look(m.source, m.destination);
      expect(views.source).toEqual({ reachable: true, domain: { state: 'running', reason: 'Booted', persistent: true }, job: { type: 'none' } });
      expect(jobViewOf(views.source, views.destination).type).toBe('none');
    }
  });

  it("the VM's arrival record on the source is not taken for this job's (abort-after-arrival.json)", async () => {
    const f = loadFixture('abort-after-arrival');
    const before: HostSnapshot = { state: f.sourceBeforeJob!.state, current: { type: 0, typeName: 'None', params: {}, paramTypes: {} }, completedKeep: f.sourceBeforeJob!.completedKeep };
    const { views } = await look(before, momentsOf(f).at(-1)!.destination);
    expect(views.source.finishedJob).toMatchObject({ type: 'completed', operation: 'migration_in' });
    expect(jobViewOf(views.source, views.destination).type).toBe('none');
    expect(classifySituation(views.source, null).situation).toBe('not-started-or-rolled-back');
  });

  it('a domain gone between lookup and state is absent, not unreachable (abort.json)', async () => {
    const m = loadFixture('abort').during.find((d) => d.destination.state.startsWith('error: '))!;
    const { views } = await look(m.source, m.destination);
    expect(views.destination).toEqual({ reachable: true, domain: 'none', job: { type: 'none' } });
  });

  it('a domain stopped between state and job stats is read again (seen on the lab at the end of a post-copy)', async () => {
    const source: HostSnapshot = {
      state: 'paused (Postcopy)',
      current: { error: 'Requested operation is not valid: domain is not running', code: 'OperationInvalid' },
      completedKeep: loadFixture('postcopy').after.source.completedKeep1,
    };
    const m = momentsOf(loadFixture('postcopy')).at(-1)!;
    const { views } = await look(source, m.destination);
    expect(views.source.job).toEqual({ type: 'none' });
    expect(views.source.finishedJob).toMatchObject({ type: 'completed', operation: 'migration_out' });
    expect(classifySituation(views.source, views.destination).situation).toBe('switched-over-source-not-cleaned');
  });

  it('an error libvirt does not explain is reported as unreachable with its message (retry-observe)', async () => {
    const source: HostSnapshot = { state: 'running (Booted)', current: { error: 'internal error: unexpected', code: 'InternalError' }, completedKeep: { type: 0, typeName: 'None', params: {}, paramTypes: {} } };
    const { views } = await look(source, source);
    expect(views.source).toEqual({ reachable: false, domain: 'none', error: 'internal error: unexpected' } satisfies HostDomainView);
    expect(classifySituation(views.source, views.destination).next).toBe('retry-observe');
  });
});

describe('job stats -> job view (pure mapping, on the recorded replies)', () => {
  it('maps the current job', () => {
    const precopy = loadFixture('precopy');
    expect(hostJobOf(statsOf(precopy.during[0]!.source.current))).toEqual({ type: 'unbounded', operation: 'migration_out' });
    expect(hostJobOf(statsOf(precopy.after.destination.current))).toEqual({ type: 'none' });
    const failed = loadFixture('dest-destroyed').during.at(-1)!.source.current;
    expect(typeOf(failed)).toBe('Failed');
    expect(hostJobOf(statsOf(failed))).toEqual({ type: 'failed', operation: 'migration_out' });
  });

  it('maps the finished-job record, or none', () => {
    const postcopy = loadFixture('postcopy');
    expect(finishedJobOf(statsOf(postcopy.after.source.completedKeep1))).toMatchObject({ type: 'completed', operation: 'migration_out', downtimeMs: expect.any(Number) });
    expect(finishedJobOf(statsOf(postcopy.after.destination.completedKeep1))).toBeUndefined();
    expect(finishedJobOf(statsOf(loadFixture('abort').after.source.completedKeep1))).toBeUndefined();
  });

  it("carries libvirt's errmsg and success (sent for failed backup jobs; no migration reply of libvirt 9.0 has them)", () => {
    const stats = parseJobStats(4, [
      param.int('operation', 9),
      param.boolean('success', false),
      param.string('errmsg', 'No space left on device'),
    ]);
    expect(stats).toMatchObject({ typeName: 'Failed', success: false, errmsg: 'No space left on device', operationName: 'backup' });
    expect(finishedJobOf(stats)).toEqual({ type: 'failed', operation: 'backup', errorMessage: 'No space left on device' });
    expect(hostJobOf(stats)).toEqual({ type: 'failed', operation: 'backup', errorMessage: 'No space left on device' });
    expect(finishedJobOf(parseJobStats(5, [param.int('operation', 5)]))).toEqual({ type: 'cancelled', operation: 'migration_out' });
  });
});
