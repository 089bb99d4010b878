import { describe, expect, it } from 'vitest';
import { classifyResumeError, decideRecovery, postcopyBegun, type RecoveryInput } from '../../../model/postcopy-recovery';
import type { HostView } from '../../../model/situation';

/**
 * Host views as the lab's libvirt 9.0 shows them (states and reasons read with host-view.ts during
 * the `ss -K` fault test and test/fixtures/job-stats/postcopy.json), and libvirt's own refusals.
 */
const dom = (state: 'running' | 'paused' | 'shutoff', reason: string, job?: HostView['job']): HostView =>
  ({ reachable: true, domain: { state, reason, persistent: true }, ...(job ? { job } : {}) });
const active: HostView['job'] = { type: 'unbounded', operation: 'migration_out' };
const incoming: HostView['job'] = { type: 'unbounded', operation: 'migration_in' };
const SRC_POSTCOPY = dom('paused', 'Postcopy', active);
const SRC_FAILED = dom('paused', 'PostcopyFailed', active);
const DST_POSTCOPY = dom('running', 'Postcopy', incoming);
const DST_FAILED = dom('running', 'PostcopyFailed', incoming);
const DST_WAITING = dom('paused', 'Migration', incoming);
const SRC_MIGRATED = dom('shutoff', 'Migrated', { type: 'none' });
const DST_MIGRATED = dom('running', 'Migrated', { type: 'none' });
const DST_KILLED = dom('shutoff', 'Failed', { type: 'none' });
const UNREACHABLE: HostView = { reachable: false, domain: 'none' };

const MONITORED = "operation invalid: migration of domain wf-pc-break is being actively monitored by another thread";
const NO_INCOMING = "Requested operation is not valid: domain 'wf-pc-break' is not processing incoming migration";
const NOT_MIGRATED = "Requested operation is not valid: domain 'wf-pc-break' is not being migrated";

const base: Omit<RecoveryInput, 'source' | 'destination'> = {
  attempts: 0, maxAttempts: 3, notYetForMs: 0, patienceMs: 300_000, sourceLagMs: 5_000,
};
const decide = (source: HostView, destination: HostView, more: Partial<RecoveryInput> = {}) =>
  decideRecovery({ ...base, source, destination, ...more });

describe('post-copy has begun only when the destination runs in post-copy', () => {
  it('not while the destination still waits paused (the ~50 ms window of postcopy.json)', () => {
    expect(postcopyBegun(SRC_POSTCOPY, DST_WAITING)).toBe(false);
    expect(postcopyBegun(SRC_POSTCOPY, DST_POSTCOPY)).toBe(true);
    expect(postcopyBegun(SRC_FAILED, DST_FAILED)).toBe(true);
  });
});

describe('what libvirt refusals mean', () => {
  it.each([
    [MONITORED, 'source-busy'],
    [NO_INCOMING, 'no-incoming-job'],
    [NOT_MIGRATED, 'not-being-migrated'],
    ['operation invalid: post-copy migration of domain x has not failed', 'not-failed-yet'],
    ['operation invalid: resuming failed post-copy migration of domain x already in progress', 'resume-in-progress'],
    ['unable to connect to server at host-b:49152: Connection refused', 'other'],
  ])('%s -> %s', (msg, want) => expect(classifyResumeError(msg)).toBe(want));
});

describe('decideRecovery', () => {
  it('resumes when both hosts show post-copy failed', () => {
    expect(decide(SRC_FAILED, DST_FAILED).kind).toBe('resume');
  });
  it('"actively monitored by another thread" is "not yet", never a spent attempt', () => {
    const s = decide(SRC_FAILED, DST_FAILED, { lastError: MONITORED, attempts: 2 });
    expect(s).toMatchObject({ kind: 'not-yet', reason: 'source-busy' });
  });
  it('"not processing incoming migration" with the guest running Migrated there: finished on its own', () => {
    expect(decide(SRC_MIGRATED, DST_MIGRATED, { lastError: NO_INCOMING }).kind).toBe('finished-on-its-own');
    expect(decide(SRC_MIGRATED, DST_MIGRATED, { lastError: NOT_MIGRATED }).kind).toBe('finished-on-its-own');
  });
  it('after our resume returned, the same views mean resumed', () => {
    expect(decide(SRC_MIGRATED, DST_MIGRATED, { resumeSucceeded: true }).kind).toBe('resumed');
    expect(decide(SRC_POSTCOPY, DST_POSTCOPY, { attempts: 1 }).kind).toBe('resumed');
  });
  it('"not processing incoming migration" while the destination still shows failed: not yet, then escalate', () => {
    expect(decide(SRC_FAILED, DST_FAILED, { lastError: NO_INCOMING })).toMatchObject({ kind: 'not-yet', reason: 'destination-job-missing' });
    expect(decide(SRC_FAILED, DST_FAILED, { lastError: NO_INCOMING, notYetForMs: 400_000 })).toMatchObject({ kind: 'escalate', reason: 'stuck' });
  });
  it('a destination guest killed before its vCPUs ran: escalate, never resume, never destroy', () => {
    expect(decide(SRC_FAILED, DST_KILLED)).toMatchObject({ kind: 'escalate', reason: 'destination-lost' });
    expect(decide(SRC_FAILED, { reachable: true, domain: 'none', job: { type: 'none' } })).toMatchObject({ kind: 'escalate', reason: 'destination-lost' });
  });
  it('the source not yet failed while the destination is: wait, then pause the source post-copy', () => {
    expect(decide(SRC_POSTCOPY, DST_FAILED)).toMatchObject({ kind: 'not-yet', reason: 'source-not-failed-yet' });
    expect(decide(SRC_POSTCOPY, DST_FAILED, { notYetForMs: 6_000 }).kind).toBe('pause-postcopy-on-source');
  });
  it('the destination has not seen the break yet: not yet', () => {
    expect(decide(SRC_FAILED, DST_POSTCOPY)).toMatchObject({ kind: 'not-yet', reason: 'destination-not-failed-yet' });
  });
  it('a host that does not answer is never guessed about', () => {
    expect(decide(SRC_FAILED, UNREACHABLE)).toMatchObject({ kind: 'not-yet', reason: 'host-unreachable' });
    expect(decide(UNREACHABLE, DST_FAILED)).toMatchObject({ kind: 'not-yet', reason: 'host-unreachable' });
  });
  it('bounded attempts end escalated', () => {
    expect(decide(SRC_FAILED, DST_FAILED, { attempts: 3, lastError: 'Connection refused' })).toMatchObject({ kind: 'escalate', reason: 'attempts-exhausted' });
  });
  it('the source QEMU gone during post-copy: escalate (source-lost)', () => {
    expect(decide(dom('shutoff', 'Crashed'), DST_FAILED)).toMatchObject({ kind: 'escalate', reason: 'source-lost' });
  });
  it('the switch-over still ending on the source: not yet (completing)', () => {
    expect(decide(dom('paused', 'Postcopy', active), DST_MIGRATED)).toMatchObject({ kind: 'not-yet', reason: 'completing' });
  });
});
