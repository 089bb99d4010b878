/**
 * The table row by row, on the states libvirt 9.0 really shows (test/fixtures/job-stats: what
 * hostView reads at each recorded moment), and on the edges no recording reaches.
 */
import { describe, expect, it } from 'vitest';
import {
  classifySituation,
  describeHost,
  describeJob,
  type DomainState,
  type FinishedJob,
  type HostJob,
  type HostView,
  type JobView,
  type NextStep,
  type Situation,
} from '../../../model/situation';

type Job = HostJob['type'] | HostJob;
const host = (state: DomainState | 'none', reason = '', job: Job = 'none', finishedJob?: FinishedJob): HostView => ({
  reachable: true,
  domain: state === 'none' ? 'none' : { state, reason, persistent: true },
  job: typeof job === 'string' ? { type: job } : job,
  ...(finishedJob ? { finishedJob } : {}),
});
const none = host('none');
const esc = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const unreachable: HostView = { reachable: false, domain: 'none' };
// What hostView reports (recorded): the source's migration job, a destination's incoming migration.
const out: HostJob = { type: 'unbounded', operation: 'migration_out' };
const incoming: HostJob = { type: 'unbounded', operation: 'migration_in' };
const sentRecord: FinishedJob = { type: 'completed', operation: 'migration_out', elapsedMs: 1713, downtimeMs: 102 };
const receivedRecord: FinishedJob = { type: 'completed', operation: 'migration_in', elapsedMs: 1660, downtimeMs: 102 };

interface Row {
  name: string;
  source: HostView;
  destination: HostView | null;
  job?: JobView;
  situation: Situation;
  next: NextStep;
}

// design.md "Where the VM really is", row by row, as the lab shows each state.
const designRows: Row[] = [
  { name: 'running | none', source: host('running', 'Booted'), destination: none, situation: 'not-started-or-rolled-back', next: 'roll-back' },
  { name: 'running | paused (precopy.json)', source: host('running', 'Booted', out), destination: host('paused', 'Migration', incoming), situation: 'precopy-in-progress', next: 'keep-watching' },
  { name: 'paused | paused (precopy.json)', source: host('paused', 'Migration', out), destination: host('paused', 'Migration', incoming), situation: 'switchover-in-progress', next: 'wait-then-read-completed-stats' },
  { name: 'paused (post-copy) | running (post-copy) (postcopy.json)', source: host('paused', 'Postcopy', out), destination: host('running', 'Postcopy', incoming), situation: 'postcopy-running', next: 'watch-postcopy-never-abort' },
  { name: 'paused (post-copy failed) | running (post-copy failed)', source: host('paused', 'PostcopyFailed', out), destination: host('running', 'PostcopyFailed', incoming), situation: 'postcopy-broken', next: 'recover-postcopy' },
  { name: 'paused | running, the source job over', source: host('paused', 'Migration'), destination: host('running', 'Migrated'), situation: 'switched-over-source-not-cleaned', next: 'finish-on-source' },
  { name: 'shut off (defined) | running (precopy.json, after)', source: host('shutoff', 'Migrated', 'none', sentRecord), destination: host('running', 'Migrated', 'none', receivedRecord), situation: 'switched-over-source-not-cleaned', next: 'finish-on-source' },
  { name: 'none | running', source: none, destination: host('running', 'Migrated'), situation: 'done', next: 'finish' },
];

// A paused guest, a switch-over in progress and a finished job look alike by state alone.
const pausedSwitchedFinished: Row[] = [
  { name: 'a paused guest, nothing migrating', source: host('paused', 'User'), destination: none, situation: 'not-started-or-rolled-back', next: 'roll-back' },
  { name: 'a paused guest being copied (paused-guest.json)', source: host('paused', 'User', out), destination: host('paused', 'Migration', incoming), situation: 'precopy-in-progress', next: 'keep-watching' },
  { name: 'a paused guest, the incoming one still starting (paused-guest.json)', source: host('paused', 'User', out), destination: host('paused', 'StartingUp', incoming), situation: 'precopy-in-progress', next: 'keep-watching' },
  { name: "a paused guest's switch-over: the destination holds it, the source confirms (paused-guest.json)", source: host('paused', 'User', out), destination: host('paused', 'User'), situation: 'switchover-in-progress', next: 'wait-then-read-completed-stats' },
  { name: 'switch-over: both paused by the migration, the source job runs', source: host('paused', 'Migration', out), destination: host('paused', 'Migration', incoming), situation: 'switchover-in-progress', next: 'wait-then-read-completed-stats' },
  { name: 'switch-over: the destination runs, the source confirms (precopy.json)', source: host('paused', 'Migration', out), destination: host('running', 'Migrated', incoming), situation: 'switchover-in-progress', next: 'wait-then-read-completed-stats' },
  { name: 'finished: the source keeps its completed record (precopy.json, after)', source: host('shutoff', 'Migrated', 'none', sentRecord), destination: host('running', 'Migrated', 'none', receivedRecord), situation: 'switched-over-source-not-cleaned', next: 'finish-on-source' },
  { name: 'finished: a migrated paused guest (paused-guest.json, after)', source: host('shutoff', 'Migrated', 'none', sentRecord), destination: host('paused', 'User', 'none', receivedRecord), situation: 'switched-over-source-not-cleaned', next: 'finish-on-source' },
  { name: "finished and cleaned: the destination's record says so", source: none, destination: host('paused', 'User', 'none', receivedRecord), situation: 'done', next: 'finish' },
  { name: 'a paused destination, the source gone, no record: cannot tell a migrated guest from a loss yet', source: none, destination: host('paused', 'User'), situation: 'switchover-in-progress', next: 'wait-then-read-completed-stats' },
  { name: 'both paused, the source job over without a record: the incoming guest is a leftover', source: host('paused', 'Migration'), destination: host('paused', 'Migration'), situation: 'not-started-or-rolled-back', next: 'roll-back' },
  { name: 'both paused, job unread: no guessing', source: { ...host('paused', 'Migration'), job: undefined }, destination: host('paused', 'Migration', incoming), situation: 'unknown', next: 'retry-observe' },
];

// How a failed or aborted migration looks on libvirt 9.0: no record anywhere.
const endedWithoutSuccess: Row[] = [
  { name: 'aborted: the job still ending, the incoming guest gone (abort.json)', source: host('running', 'Booted', out), destination: none, situation: 'precopy-in-progress', next: 'keep-watching' },
  { name: 'aborted: no job, no record (abort.json, after)', source: host('running', 'Booted'), destination: none, situation: 'not-started-or-rolled-back', next: 'roll-back' },
  { name: "failed: libvirt's 'failed' current job for a few ms (dest-destroyed.json)", source: host('running', 'Booted', { type: 'failed', operation: 'migration_out' }), destination: none, situation: 'not-started-or-rolled-back', next: 'roll-back' },
  { name: "aborted after an arrival: the arrival's record is not this job's (abort-after-arrival.json)", source: host('running', 'Migrated', 'none', { type: 'completed', operation: 'migration_in' }), destination: none, situation: 'not-started-or-rolled-back', next: 'roll-back' },
  { name: 'the source runs, its job over, the incoming guest not yet removed', source: host('running', 'Booted'), destination: host('paused', 'Migration', incoming), situation: 'not-started-or-rolled-back', next: 'roll-back' },
  { name: 'the migrate call failed (the caller knows), the leftover incoming guest', source: host('running', 'MigrationCanceled'), destination: host('paused', 'Migration'), job: { type: 'failed', errorMessage: 'connection reset' }, situation: 'not-started-or-rolled-back', next: 'roll-back' },
];

// Post-copy: forward only.
const postcopyRows: Row[] = [
  { name: 'post-copy switch, the destination not resumed yet (postcopy.json)', source: host('paused', 'Postcopy', out), destination: host('paused', 'Migration', incoming), situation: 'postcopy-running', next: 'watch-postcopy-never-abort' },
  { name: 'post-copy done on the destination, the source job ending (postcopy.json)', source: host('paused', 'Postcopy', out), destination: host('running', 'Migrated'), situation: 'switchover-in-progress', next: 'wait-then-read-completed-stats' },
  { name: 'post-copy finished, the source left paused', source: host('paused', 'Postcopy'), destination: host('running', 'Migrated'), situation: 'switched-over-source-not-cleaned', next: 'finish-on-source' },
  { name: 'post-copy completed: only the source keeps a record (postcopy.json, after)', source: host('shutoff', 'Migrated', 'none', { ...sentRecord, postcopyRequests: 40 }), destination: host('running', 'Migrated'), situation: 'switched-over-source-not-cleaned', next: 'finish-on-source' },
  { name: 'paused (POSTCOPY_FAILED) | paused (post-copy failed)', source: host('paused', 'POSTCOPY_FAILED', out), destination: host('paused', 'postcopy-failed'), situation: 'postcopy-broken', next: 'recover-postcopy' },
  { name: 'paused (PostcopyFailed) | running (still post-copy)', source: host('paused', 'PostcopyFailed', out), destination: host('running', 'Postcopy', incoming), situation: 'postcopy-broken', next: 'recover-postcopy' },
  { name: 'paused (Postcopy) | running (post-copy failed)', source: host('paused', 'Postcopy', out), destination: host('running', 'PostcopyFailed', incoming), situation: 'postcopy-broken', next: 'recover-postcopy' },
  { name: 'the destination paused by its operator during post-copy', source: host('paused', 'Postcopy', out), destination: host('paused', 'User'), situation: 'postcopy-running', next: 'watch-postcopy-never-abort' },
  { name: 'post-copy seen on the destination before the source', source: host('paused', 'Migration', out), destination: host('running', 'Postcopy', incoming), situation: 'postcopy-running', next: 'watch-postcopy-never-abort' },
  { name: 'source QEMU died, destination post-copy failed', source: none, destination: host('running', 'PostcopyFailed'), situation: 'vm-lost', next: 'escalate' },
  { name: 'source QEMU died, destination paused post-copy failed', source: none, destination: host('paused', 'PostcopyFailed'), situation: 'vm-lost', next: 'escalate' },
  { name: 'source gone, destination still post-copy, the job failed', source: none, destination: host('running', 'Postcopy'), job: { type: 'failed' }, situation: 'vm-lost', next: 'escalate' },
  { name: 'source gone, destination still post-copy, no record yet', source: none, destination: host('running', 'Postcopy'), situation: 'switchover-in-progress', next: 'wait-then-read-completed-stats' },
  { name: 'source gone, destination still post-copy, the job completed', source: none, destination: host('running', 'Postcopy'), job: { type: 'completed' }, situation: 'done', next: 'finish' },
  { name: 'destination QEMU died during post-copy', source: host('paused', 'Postcopy', out), destination: none, situation: 'vm-lost', next: 'escalate' },
];

const edgeRows: Row[] = [
  { name: 'source unreachable', source: unreachable, destination: host('paused', 'Migration'), situation: 'unknown', next: 'retry-observe' },
  { name: 'destination unreachable, even with the source running', source: host('running', 'Booted'), destination: unreachable, situation: 'unknown', next: 'retry-observe' },
  { name: 'both unreachable', source: unreachable, destination: unreachable, situation: 'unknown', next: 'retry-observe' },
  { name: 'running on both hosts', source: host('running', 'Booted'), destination: host('running', 'Migrated'), situation: 'split-brain', next: 'escalate' },
  { name: 'source running while the destination holds post-copy', source: host('running', 'Unpaused'), destination: host('paused', 'PostcopyFailed'), situation: 'split-brain', next: 'escalate' },
  { name: 'source running while a destination guest that ran there is paused', source: host('running', 'Booted'), destination: host('paused', 'User'), situation: 'split-brain', next: 'escalate' },
  { name: "the 'source' is the receiving side of a post-copy", source: host('running', 'Postcopy'), destination: none, situation: 'inconsistent', next: 'escalate' },
  { name: 'a completed record while the source runs and the incoming guest never started', source: host('running', 'Booted'), destination: host('paused', 'Migration'), job: { type: 'completed' }, situation: 'inconsistent', next: 'escalate' },
  { name: 'two paused copies and no record', source: host('paused', 'User'), destination: host('paused', 'User'), situation: 'inconsistent', next: 'escalate' },
  { name: 'QEMU gone everywhere', source: none, destination: none, situation: 'vm-lost', next: 'escalate' },
  { name: 'source shut off, nothing on the destination', source: host('shutoff', 'Shutdown'), destination: none, situation: 'vm-lost', next: 'escalate' },
  { name: 'no destination chosen yet, running', source: host('running', 'Booted'), destination: null, situation: 'not-started-or-rolled-back', next: 'roll-back' },
  { name: 'no destination chosen yet, a foreign job on the source', source: host('running', 'Booted', { type: 'unbounded', operation: 'dump' }), destination: null, situation: 'not-started-or-rolled-back', next: 'roll-back' },
  { name: 'no destination chosen yet, VM gone', source: none, destination: null, situation: 'vm-lost', next: 'escalate' },
  { name: 'job started, the destination guest not created yet (precopy.json)', source: host('running', 'Booted', out), destination: none, situation: 'precopy-in-progress', next: 'keep-watching' },
  { name: 'paused for switch-over, the destination guest gone, the job still ending', source: host('paused', 'Migration', out), destination: none, situation: 'switchover-in-progress', next: 'wait-then-read-completed-stats' },
  { name: 'paused for switch-over | none, the job over', source: host('paused', 'Migration'), destination: none, situation: 'not-started-or-rolled-back', next: 'roll-back' },
  { name: 'a guest in a transitional state', source: host('other', 'Shutdown'), destination: host('paused', 'Migration'), situation: 'unknown', next: 'retry-observe' },
  { name: 'a crashed destination guest', source: host('running', 'Booted'), destination: host('other', 'Crashed'), situation: 'unknown', next: 'retry-observe' },
  { name: 'a leftover definition on the destination', source: host('running', 'Booted'), destination: host('shutoff', 'Failed'), situation: 'not-started-or-rolled-back', next: 'roll-back' },
  { name: "the source's job unread while an incoming guest waits", source: { ...host('running', 'Booted'), job: undefined }, destination: host('paused', 'Migration', incoming), situation: 'unknown', next: 'retry-observe' },
];

describe.each([
  ['design.md table', designRows],
  ['paused guest vs switch-over vs finished job', pausedSwitchedFinished],
  ['ended without success (libvirt 9.0 keeps no record)', endedWithoutSuccess],
  ['post-copy', postcopyRows],
  ['edges', edgeRows],
])('situation: %s', (_table, rows) => {
  it.each(rows)('$name -> $situation / $next', (row) => {
    const verdict = classifySituation(row.source, row.destination, row.job);
    expect({ situation: verdict.situation, next: verdict.next }).toEqual({ situation: row.situation, next: row.next });
    expect(verdict.explanation).toMatch(new RegExp(`^source ${esc(describeHost(row.source))}, destination ${esc(describeHost(row.destination))}: .+; ${esc(describeJob(verdict.job))}$`));
  });
});

describe('the job view decides between look-alike states', () => {
  const source = host('paused', 'Migration');
  const destination = host('paused', 'Migration', incoming);
  it.each([
    [{ type: 'unbounded' }, 'switchover-in-progress'],
    [{ type: 'completed' }, 'switched-over-source-not-cleaned'],
    [{ type: 'failed' }, 'not-started-or-rolled-back'],
    [{ type: 'cancelled' }, 'not-started-or-rolled-back'],
    [{ type: 'none' }, 'not-started-or-rolled-back'],
    [{ type: 'unknown' }, 'unknown'],
  ] as Array<[JobView, Situation]>)('paused (Migration) | paused (Migration), job %o -> %s', (job, situation) => {
    expect(classifySituation(source, destination, job).situation).toBe(situation);
  });

  it('reads the job from the views when the caller passes none', () => {
    expect(classifySituation(host('paused', 'Migration', out), destination).situation).toBe('switchover-in-progress');
    expect(classifySituation(host('shutoff', 'Migrated', 'none', sentRecord), host('paused', 'User')).situation).toBe('switched-over-source-not-cleaned');
    expect(classifySituation(host('shutoff', 'Migrated'), host('paused', 'User')).situation).toBe('switchover-in-progress');
  });
});

describe('describeHost and the explanation', () => {
  it('says what was observed, in libvirt words', () => {
    expect(describeHost(host('paused', 'PostcopyFailed'))).toBe('paused (PostcopyFailed)');
    expect(describeHost(host('paused', 'Migration', out))).toBe('paused (Migration), job active');
    expect(describeHost(host('paused', 'Migration', incoming))).toBe('paused (Migration), incoming migration');
    expect(describeHost(host('shutoff', 'Migrated', 'none', sentRecord))).toBe('shutoff (Migrated), still defined');
    expect(describeHost(none)).toBe('absent');
    expect(describeHost(unreachable)).toBe('unreachable');
    expect(describeHost({ ...unreachable, error: 'connection refused' } as HostView)).toBe('unreachable (connection refused)');
    expect(describeHost(null)).toBe('none (no destination chosen)');
  });

  it('names the job, its error and where it was read', () => {
    const failed = classifySituation(host('running', 'Booted'), none, { type: 'failed', errorMessage: 'connection reset', from: 'the migrate call' });
    expect(failed.explanation).toBe(
      'source running (Booted), destination absent: the guest runs on the source only and no job runs; job failed: connection reset (the migrate call)',
    );
    const done = classifySituation(host('shutoff', 'Migrated', 'none', sentRecord), host('running', 'Migrated', 'none', receivedRecord));
    expect(done.explanation).toContain("job completed (the source's finished-job record)");
    expect(done.job).toEqual({ type: 'completed', operation: 'migration_out', from: "the source's finished-job record" });
    expect(done.classes).toEqual({ source: 'defined', destination: 'running', job: 'completed' });
  });
});
