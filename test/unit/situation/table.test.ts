import { describe, expect, it } from 'vitest';
import {
  classifySituation,
  describeHost,
  type DomainState,
  type HostView,
  type JobType,
  type JobView,
  type NextStep,
  type Situation,
} from '../../../model/situation';

const host = (state: DomainState | 'none', reason = '', job?: JobType, persistent?: boolean): HostView => ({
  reachable: true,
  domain: state === 'none' ? 'none' : { state, reason, ...(persistent === undefined ? {} : { persistent }) },
  ...(job ? { job: { type: job } } : {}),
});
const none = host('none');
const unreachable: HostView = { reachable: false, domain: 'none' };

interface Row {
  name: string;
  source: HostView;
  destination: HostView | null;
  job?: JobView;
  situation: Situation;
  next: NextStep;
}

// design.md "Where the VM really is", row by row.
const designRows: Row[] = [
  { name: 'running | none', source: host('running', 'Booted'), destination: none, situation: 'not-started-or-rolled-back', next: 'roll-back' },
  { name: 'running | paused', source: host('running', 'Booted', 'unbounded'), destination: host('paused', 'Migration', 'unbounded'), situation: 'precopy-in-progress', next: 'keep-watching' },
  { name: 'paused | paused', source: host('paused', 'Migration', 'unbounded'), destination: host('paused', 'Migration'), situation: 'switchover-in-progress', next: 'wait-then-read-completed-stats' },
  { name: 'paused (post-copy) | running (post-copy)', source: host('paused', 'Postcopy', 'unbounded'), destination: host('running', 'Postcopy'), situation: 'postcopy-running', next: 'watch-postcopy-never-abort' },
  { name: 'paused (post-copy failed) | running (post-copy failed)', source: host('paused', 'PostcopyFailed', 'unbounded'), destination: host('running', 'PostcopyFailed'), situation: 'postcopy-broken', next: 'recover-postcopy' },
  { name: 'paused | running', source: host('paused', 'Migration', 'none'), destination: host('running', 'Migrated'), situation: 'switched-over-source-not-cleaned', next: 'finish-on-source' },
  { name: 'shut off (defined) | running', source: host('shutoff', 'Migrated', undefined, true), destination: host('running', 'Migrated'), situation: 'switched-over-source-not-cleaned', next: 'finish-on-source' },
  { name: 'none | running', source: none, destination: host('running', 'Migrated'), situation: 'done', next: 'finish' },
];

// anchors.md appendix rows that the design table does not already cover.
const anchorRows: Row[] = [
  { name: 'running | none after a failed job (rolled back)', source: host('running', 'MigrationCanceled'), destination: none, job: { type: 'failed', errorMessage: 'connection reset' }, situation: 'not-started-or-rolled-back', next: 'roll-back' },
  { name: 'paused | paused, job gone: inspect completed stats', source: host('paused', 'Migration', 'none'), destination: host('paused', 'Migration'), situation: 'switchover-in-progress', next: 'wait-then-read-completed-stats' },
  { name: 'paused (POSTCOPY) | running', source: host('paused', 'Postcopy'), destination: host('running', 'Postcopy'), situation: 'postcopy-running', next: 'watch-postcopy-never-abort' },
  { name: 'paused (POSTCOPY_FAILED) | paused (post-copy failed)', source: host('paused', 'POSTCOPY_FAILED'), destination: host('paused', 'postcopy-failed'), situation: 'postcopy-broken', next: 'recover-postcopy' },
  { name: 'paused (POSTCOPY_FAILED) | running (still post-copy)', source: host('paused', 'PostcopyFailed'), destination: host('running', 'Postcopy'), situation: 'postcopy-broken', next: 'recover-postcopy' },
  { name: 'paused (POSTCOPY) | running (post-copy failed)', source: host('paused', 'Postcopy'), destination: host('running', 'PostcopyFailed'), situation: 'postcopy-broken', next: 'recover-postcopy' },
  { name: 'none (QEMU died) | running (post-copy failed)', source: none, destination: host('running', 'PostcopyFailed'), situation: 'vm-lost', next: 'escalate' },
  { name: 'none (QEMU died) | paused (post-copy failed)', source: none, destination: host('paused', 'PostcopyFailed'), situation: 'vm-lost', next: 'escalate' },
  { name: 'none (QEMU died) | running (post-copy), job failed', source: none, destination: host('running', 'Postcopy'), job: { type: 'failed' }, situation: 'vm-lost', next: 'escalate' },
];

// Rows this implementation adds: the edges of the two tables.
const edgeRows: Row[] = [
  { name: 'source unreachable', source: unreachable, destination: host('paused', 'Migration'), situation: 'unknown', next: 'retry-observe' },
  { name: 'destination unreachable, even with the source running', source: host('running', 'Booted'), destination: unreachable, situation: 'unknown', next: 'retry-observe' },
  { name: 'both unreachable', source: unreachable, destination: unreachable, situation: 'unknown', next: 'retry-observe' },
  { name: 'running on both hosts', source: host('running', 'Booted'), destination: host('running', 'Migrated'), situation: 'split-brain', next: 'escalate' },
  { name: 'source running while destination holds post-copy', source: host('running', 'Unpaused'), destination: host('paused', 'PostcopyFailed'), situation: 'split-brain', next: 'escalate' },
  { name: 'QEMU gone everywhere', source: none, destination: none, situation: 'vm-lost', next: 'escalate' },
  { name: 'source shut off, nothing on destination', source: host('shutoff', 'Shutdown', undefined, true), destination: none, situation: 'vm-lost', next: 'escalate' },
  { name: 'destination QEMU died during post-copy', source: host('paused', 'Postcopy'), destination: none, situation: 'vm-lost', next: 'escalate' },
  { name: 'no destination chosen yet, running', source: host('running', 'Booted'), destination: null, situation: 'not-started-or-rolled-back', next: 'roll-back' },
  { name: 'no destination chosen yet, a foreign job on the source', source: host('running', 'Booted', 'unbounded'), destination: null, situation: 'not-started-or-rolled-back', next: 'roll-back' },
  { name: 'no destination chosen yet, VM gone', source: none, destination: null, situation: 'vm-lost', next: 'escalate' },
  { name: 'job started, destination guest not created yet', source: host('running', 'Booted', 'unbounded'), destination: none, situation: 'precopy-in-progress', next: 'keep-watching' },
  { name: 'running | paused leftover after a failed job', source: host('running', 'MigrationCanceled'), destination: host('paused', 'Migration'), job: { type: 'failed' }, situation: 'not-started-or-rolled-back', next: 'roll-back' },
  { name: 'running | paused with no job on the source', source: host('running', 'Booted', 'none'), destination: host('paused', 'Migration'), situation: 'not-started-or-rolled-back', next: 'roll-back' },
  { name: 'paused by the operator | none', source: host('paused', 'User'), destination: none, situation: 'not-started-or-rolled-back', next: 'roll-back' },
  { name: 'paused for switch-over | none (failed)', source: host('paused', 'Migration'), destination: none, situation: 'not-started-or-rolled-back', next: 'roll-back' },
  { name: 'a paused guest being copied', source: host('paused', 'User', 'unbounded'), destination: host('paused', 'Migration'), situation: 'precopy-in-progress', next: 'keep-watching' },
  { name: 'paused | running while the source job finishes', source: host('paused', 'Migration', 'unbounded'), destination: host('running', 'Migrated'), situation: 'switchover-in-progress', next: 'wait-then-read-completed-stats' },
  { name: 'post-copy finished on destination, source job still active', source: host('paused', 'Postcopy', 'unbounded'), destination: host('running', 'Migrated'), situation: 'switchover-in-progress', next: 'wait-then-read-completed-stats' },
  { name: 'post-copy finished on destination, source left paused', source: host('paused', 'Postcopy', 'none'), destination: host('running', 'Migrated'), situation: 'switched-over-source-not-cleaned', next: 'finish-on-source' },
  { name: 'source gone, destination still says post-copy, no stats yet', source: none, destination: host('running', 'Postcopy'), situation: 'switchover-in-progress', next: 'wait-then-read-completed-stats' },
  { name: 'source gone, destination still says post-copy, job completed', source: none, destination: host('running', 'Postcopy'), job: { type: 'completed' }, situation: 'done', next: 'finish' },
  { name: 'source defined, destination still says post-copy, job completed', source: host('shutoff', 'Migrated', undefined, true), destination: host('running', 'Postcopy'), job: { type: 'completed' }, situation: 'switched-over-source-not-cleaned', next: 'finish-on-source' },
  { name: 'destination paused by its operator during post-copy', source: host('paused', 'Postcopy'), destination: host('paused', 'User'), situation: 'postcopy-running', next: 'watch-postcopy-never-abort' },
  { name: 'post-copy switch seen on destination before the source', source: host('paused', 'Migration'), destination: host('running', 'Postcopy'), situation: 'postcopy-running', next: 'watch-postcopy-never-abort' },
  { name: 'paused guest migrated: source gone, job completed', source: none, destination: host('paused', 'Migrated'), job: { type: 'completed' }, situation: 'done', next: 'finish' },
  { name: 'paused guest: source gone, no stats yet', source: none, destination: host('paused', 'Migration'), situation: 'switchover-in-progress', next: 'wait-then-read-completed-stats' },
  { name: 'paused guest: source gone, job failed', source: none, destination: host('paused', 'Migration'), job: { type: 'cancelled' }, situation: 'vm-lost', next: 'escalate' },
  { name: 'a guest in a transitional state', source: host('other', 'Shutdown'), destination: host('paused', 'Migration'), situation: 'unknown', next: 'retry-observe' },
  { name: 'a crashed destination guest', source: host('running', 'Booted'), destination: host('other', 'Crashed'), situation: 'unknown', next: 'retry-observe' },
  { name: 'a leftover definition on the destination', source: host('running', 'Booted'), destination: host('shutoff', 'Failed', undefined, true), situation: 'not-started-or-rolled-back', next: 'roll-back' },
];

describe.each([
  ['design.md table', designRows],
  ['anchors.md appendix', anchorRows],
  ['edges', edgeRows],
])('situation: %s', (_table, rows) => {
  it.each(rows)('$name -> $situation / $next', (row) => {
    const verdict = classifySituation(row.source, row.destination, row.job);
    expect({ situation: verdict.situation, next: verdict.next }).toEqual({ situation: row.situation, next: row.next });
    // The explanation names both observed states.
    expect(verdict.explanation).toContain(`source ${describeHost(row.source)}`);
    expect(verdict.explanation).toContain(`destination ${describeHost(row.destination)}`);
  });
});

describe('describeHost', () => {
  it('says what was observed, in libvirt words', () => {
    expect(describeHost(host('paused', 'PostcopyFailed'))).toBe('paused (PostcopyFailed)');
    expect(describeHost(host('shutoff', 'Migrated', undefined, true))).toBe('shutoff (Migrated), still defined');
    expect(describeHost(none)).toBe('none');
    expect(describeHost(unreachable)).toBe('unreachable');
    expect(describeHost(null)).toBe('none (no destination chosen)');
  });

  it('mentions the job error when one is known', () => {
    const verdict = classifySituation(host('running', 'Booted'), none, { type: 'failed', errorMessage: 'connection reset' });
    expect(verdict.explanation).toMatch(/job failed \(connection reset\)/);
  });
});
