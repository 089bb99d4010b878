/**
 * The recovery pauses a source that still sends (virDomainAbortJobFlags POSTCOPY) only through the
 * guard ('abort-postcopy'): both hosts are observed again right before. A refusal is "not yet",
 * never a spent attempt; the next look decides. Against two fake libvirt daemons. The defect: the
 * recovery aborted on the strength of its own earlier look.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { recoverActivities } from '../../../activities/recover';
import { DomainState, JobType, PausedReason, Procedure, RunningReason } from '../../../activities/libvirt';
import type { RecoverInput, RecoverResult } from '../../../model/activity-contract';
import { VM, precopyJob, startPair, type FakeHypervisor } from '../watch/fake-hosts';

let stop: (() => Promise<void>) | undefined;
afterEach(async () => { await stop?.(); stop = undefined; });

/** The destination saw the post-copy break 10 s ago; the source still sends (paused, Postcopy). */
async function breakSeenByDestinationOnly() {
  const pair = await startPair();
  stop = pair.stop;
  pair.source.domain = { state: DomainState.Paused, reason: PausedReason.Postcopy };
  pair.source.job = { type: JobType.Unbounded, params: precopyJob(4) };
  pair.destination.domain = { state: DomainState.Running, reason: RunningReason.PostcopyFailed };
  pair.destination.incoming = true;
  const { recoverPostcopy } = recoverActivities(pair.deps);
  const recover = (over: Partial<RecoverInput> = {}) => new MockActivityEnvironment().run(recoverPostcopy, {
    vm: { name: VM.name, uuid: VM.uuid, memoryMiB: 128, vcpus: 1 }, source: 'src', destination: 'dst', destXml: '<domain/>',
    notYetSinceMs: Date.now() - 10_000, ...over,
  }) as Promise<RecoverResult>;
  return { ...pair, recover };
}

/** Runs `change` when `host` receives its `nth` domain lookup (its nth look), before it answers. */
function onLook(host: FakeHypervisor, nth: number, change: () => void): void {
  const handler = host.server.handler;
  let seen = 0;
  host.server.handler = (call) => {
    if (call.procedure === Procedure.DomainLookupByUuid && ++seen === nth) change();
    return handler(call);
  };
}

describe('the recovery pauses post-copy on the source only through the guard', () => {
  it('the guard allows it (destination shows the break, the source still sends): the abort is sent once, no attempt spent', async () => {
    const { source, recover } = await breakSeenByDestinationOnly();
    const r = await recover({ maxWaitMs: 1 });
    expect(source.count(Procedure.DomainAbortJobFlags)).toBe(1);
    expect(r).toMatchObject({ outcome: 'not-yet', attempts: 0, errors: [] });
  });

  it('the destination domain is gone when the guard looks: no abort; the refusal is "not yet", not a spent attempt', async () => {
    const { source, destination, recover } = await breakSeenByDestinationOnly();
    onLook(destination, 2, () => { destination.domain = null; });
    const r = await recover({ maxWaitMs: 1 });
    expect(source.count(Procedure.DomainAbortJobFlags)).toBe(0);
    expect(r).toMatchObject({ outcome: 'not-yet', reason: 'source-not-failed-yet', attempts: 0 });
    expect(r.errors).toEqual([expect.stringMatching(/^pause post-copy not done: abort-postcopy refused in situation vm-lost/)]);
  });

  it('the destination runs in post-copy again when the guard looks: no abort; the next look finds post-copy running', async () => {
    const { source, destination, recover } = await breakSeenByDestinationOnly();
    onLook(destination, 2, () => { destination.domain = { state: DomainState.Running, reason: RunningReason.Postcopy }; });
    const r = await recover({ maxWaitMs: 10_000 });
    expect(source.count(Procedure.DomainAbortJobFlags)).toBe(0);
    expect(r).toMatchObject({ outcome: 'resumed', attempts: 0 });
    expect(r.errors.join(' ')).toMatch(/abort-postcopy refused in situation postcopy-running/);
  });

  it('the destination gone for good: the next look escalates as destination-lost (no attempt spent, not attempts-exhausted), nothing aborted', async () => {
    const { source, destination, recover } = await breakSeenByDestinationOnly();
    onLook(destination, 2, () => { destination.domain = null; });
    const r = await recover({ maxWaitMs: 10_000, attemptsSoFar: 0, maxAttempts: 1 });
    expect(source.count(Procedure.DomainAbortJobFlags)).toBe(0);
    expect(r).toMatchObject({ outcome: 'escalate', reason: 'destination-lost', attempts: 0 });
  });
});
