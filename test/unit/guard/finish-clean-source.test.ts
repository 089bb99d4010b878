/**
 * Finish removes the source's inactive definition through the guard ('clean-source'): both hosts
 * are observed again right before, and the definition goes only if the guest is on the
 * destination. Against two fake libvirt daemons. The defect: finish undefined the source on the
 * strength of a judgement made before its 500 ms wait for the record, without looking again, and
 * swallowed libvirt's refusal to undefine.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { afterEach, describe, expect, it } from 'vitest';
import { finishActivities } from '../../../activities/finish';
import { DomainState, JobOperation, JobType, PausedReason, Procedure, RunningReason, ShutoffReason } from '../../../activities/libvirt';
import { param } from '../../../activities/libvirt/typed-params';
import type { FinishInput, FinishResult } from '../../../model/activity-contract';
import { VM, startPair, type FakeHypervisor } from '../watch/fake-hosts';

const input: FinishInput = {
  migrationId: '6f1d8a52-0b7e-4c2a-9f55-00000000f1a1', vm: { name: VM.name, uuid: VM.uuid, memoryMiB: 128, vcpus: 1 }, source: 'src', destination: 'dst',
};

let stop: (() => Promise<void>) | undefined;
afterEach(async () => { await stop?.(); stop = undefined; });

/** After a success: the source shut off and still defined with its completed record; the destination runs the guest. */
async function switchedOver() {
  const pair = await startPair();
  stop = pair.stop;
  pair.source.domain = { state: DomainState.Shutoff, reason: ShutoffReason.Migrated };
  pair.source.job = { type: JobType.Completed, params: [param.int('operation', JobOperation.MigrationOut), param.ullong('downtime', 42)] };
  pair.destination.domain = { state: DomainState.Running, reason: RunningReason.Migrated };
  pair.destination.incoming = false;
  // libvirt forgets the domain once it is undefined.
  onCall(pair.source, Procedure.DomainUndefineFlags, 1, () => { pair.source.domain = null; });
  const { finishOnHosts } = finishActivities(pair.deps);
  const finish = () => new MockActivityEnvironment().run(finishOnHosts, input) as Promise<FinishResult>;
  return { ...pair, finish };
}

/** Runs `change` when `host` receives its `nth` call of `procedure`, before it answers. */
function onCall(host: FakeHypervisor, procedure: number, nth: number, change: () => void): void {
  const handler = host.server.handler;
  let seen = 0;
  host.server.handler = (call) => {
    if (call.procedure === procedure && ++seen === nth) change();
    return handler(call);
  };
}

describe('finish cleans the source only through the guard', () => {
  it('both hosts show the guest on the destination: the source definition is removed, nothing to report', async () => {
    const { source, finish } = await switchedOver();
    const r = await finish();
    expect(source.count(Procedure.DomainUndefineFlags)).toBe(1);
    expect(r.notes).toBeUndefined();
    expect(r.hosts).toEqual({ source: 'absent', destination: 'running (Migrated)' });
    expect(r.stats.downtimeMs).toBe(42);
  });

  it('the destination guest is gone when the guard looks again: the source definition is kept and reported, not undefined', async () => {
    const { source, destination, finish } = await switchedOver();
    // The judgement's look sees the guest running; the guard's look (the second) finds nothing.
    onCall(destination, Procedure.DomainLookupByUuid, 2, () => { destination.domain = null; });
    const r = await finish();
    expect(source.count(Procedure.DomainUndefineFlags)).toBe(0);
    expect(r.notes).toEqual([expect.stringMatching(/^kept the source definition on src: clean-source refused in situation vm-lost/)]);
    expect(r.hosts).toEqual({ source: expect.stringMatching(/shutoff .*still defined/), destination: 'absent' });
  });

  it("the destination guest is still incoming (paused, Migration) despite the source's completed record: the source definition is kept", async () => {
    const { source, destination, finish } = await switchedOver();
    destination.domain = { state: DomainState.Paused, reason: PausedReason.Migration };
    destination.incoming = true;
    const r = await finish();
    expect(source.count(Procedure.DomainUndefineFlags)).toBe(0);
    expect(r.notes?.join(' ')).toMatch(/the destination guest is paused-migration; safe only with running, running-postcopy, paused/);
    expect(r.hosts.source).toMatch(/still defined/);
  });

  it('the destination does not answer when the guard looks again: the attempt fails retryable (never guessed), nothing undefined', async () => {
    const { source, destination, finish } = await switchedOver();
    onCall(destination, Procedure.DomainLookupByUuid, 2, () => { destination.server.handler = (call) => call.replyError({ code: 1, domain: 0, message: 'internal error: daemon going away' }); });
    const err = await finish().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('HostsDisagree');
    expect((err as ApplicationFailure).nonRetryable).toBe(false);
    expect(source.count(Procedure.DomainUndefineFlags)).toBe(0);
  });

  it("libvirt's refusal to undefine is reported in the result, not swallowed", async () => {
    const { source, finish } = await switchedOver();
    const handler = source.server.handler;
    source.server.handler = (call) => call.procedure === Procedure.DomainUndefineFlags
      ? call.replyError({ code: 55, domain: 10, message: 'Requested operation is not valid: cannot undefine domain with nvram' })
      : handler(call);
    const r = await finish();
    expect(r.notes).toEqual([expect.stringMatching(/^could not remove the source definition on src: .*cannot undefine domain with nvram/)]);
    expect(r.hosts.source).toMatch(/still defined/);
  });
});
