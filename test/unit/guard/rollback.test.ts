/**
 * The roll-back goes through the guard: it observes both hosts and undoes only where the
 * situation table says the guest is (still) on the source. Against two fake libvirt daemons and
 * a fake Placement. The first two cases are the defect: the old roll-back aborted and then
 * destroyed the destination without asking where the guest ran.
 */
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { rollbackActivities } from '../../../activities/rollback';
import { DomainState, JobType, PausedReason, Procedure, RunningReason } from '../../../activities/libvirt';
import { PlacementClient } from '../../../activities/placement';
import type { RollbackInput, RollbackResult } from '../../../model/activity-contract';
import { FakePlacement } from '../placement/fake-placement';
import { VM, precopyJob, startPair } from '../watch/fake-hosts';

const MIGRATION = '6f1d8a52-0b7e-4c2a-9f55-00000000c0de';
const input: RollbackInput = {
  migrationId: MIGRATION, vm: { name: VM.name, uuid: VM.uuid, memoryMiB: 128, vcpus: 1 }, source: 'src', destination: 'dst', resumeIfPaused: false,
};

let stop: (() => Promise<void>) | undefined;
afterEach(async () => { await stop?.(); stop = undefined; });

async function setup() {
  const pair = await startPair();
  stop = pair.stop;
  const placement = new FakePlacement();
  const deps = { ...pair.deps, placement: new PlacementClient({ baseUrl: 'http://placement.test', fetch: placement.fetch }) };
  const { rollbackMigration } = rollbackActivities(deps);
  const rollback = (i: RollbackInput) => new MockActivityEnvironment().run(rollbackMigration, i) as Promise<RollbackResult>;
  return { ...pair, placement, rollback };
}

const destructive = [Procedure.DomainDestroy, Procedure.DomainDestroyFlags, Procedure.DomainUndefine, Procedure.DomainUndefineFlags, Procedure.DomainAbortJob, Procedure.DomainAbortJobFlags, Procedure.DomainResume];
const destructiveCalls = (h: { count(p: number): number }) => destructive.reduce((n, p) => n + h.count(p), 0);

describe('roll-back through the guard', () => {
  it('post-copy running (the destination runs the guest): nothing is aborted, destroyed or reverted; the workflow is told to keep watching', async () => {
    const { source, destination, placement, rollback } = await setup();
    source.domain = { state: DomainState.Paused, reason: PausedReason.Postcopy };
    source.job = { type: JobType.Unbounded, params: precopyJob(2) };
    destination.domain = { state: DomainState.Running, reason: RunningReason.Postcopy };
    const r = await rollback(input);
    expect(r).toMatchObject({ outcome: 'refused', situation: 'postcopy-running', next: 'watch-postcopy-never-abort' });
    expect(destructiveCalls(source) + destructiveCalls(destination)).toBe(0);
    expect(placement.writes()).toEqual([]);
  });

  it('the guest already runs on the destination alone: the destination is not destroyed; the workflow is told to finish', async () => {
    const { source, destination, placement, rollback } = await setup();
    source.domain = null;
    source.job = { type: JobType.None, params: [] };
    destination.domain = { state: DomainState.Running, reason: RunningReason.Migrated };
    destination.incoming = false;
    const r = await rollback(input);
    expect(r).toMatchObject({ outcome: 'refused', situation: 'done', next: 'finish' });
    expect(destructiveCalls(source) + destructiveCalls(destination)).toBe(0);
    expect(placement.writes()).toEqual([]);
  });

  it('pre-copy running: the job is aborted, then the leftover is cleaned and the allocations go back', async () => {
    const { source, destination, placement, rollback } = await setup();
    placement.setConsumer(MIGRATION, { '00000000-0000-4000-8000-0000000000a1': { VCPU: 1, MEMORY_MB: 128 } });
    placement.setConsumer(VM.uuid, { '00000000-0000-4000-8000-0000000000b1': { VCPU: 1, MEMORY_MB: 128 } });
    // libvirt ends the job on abort and removes the incoming guest.
    const handler = source.server.handler;
    source.server.handler = (call) => {
      if (call.procedure === Procedure.DomainAbortJob) {
        source.job = { type: JobType.None, params: [] };
        destination.domain = null;
        destination.incoming = false;
      }
      return handler(call);
    };
    const r = await rollback(input);
    expect(r.outcome).toBe('rolled-back');
    expect(source.count(Procedure.DomainAbortJob)).toBe(1);
    expect(destination.count(Procedure.DomainDestroyFlags)).toBe(0); // libvirt removed it: nothing left to destroy
    expect(r.steps.join('; ')).toMatch(/aborted the migration job/);
    expect(Object.keys(placement.consumers.get(VM.uuid)?.allocations ?? {})).toEqual(['00000000-0000-4000-8000-0000000000a1']);
  });

  it("Placement down while the allocations go back: by default the attempt fails PlacementUnavailable (the retry policy waits, unseen)", async () => {
    const { source, destination, placement, rollback } = await setup();
    source.job = { type: JobType.None, params: [] };
    destination.incoming = false;
    placement.goDown();
    const err = await rollback(input).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'PlacementUnavailable', nonRetryable: false });
  });

  it("Placement down while the allocations go back, placementOutage 'report': the hosts are rolled back and the result says the allocations wait for Placement", async () => {
    const { source, destination, placement, rollback } = await setup();
    source.job = { type: JobType.None, params: [] };
    destination.incoming = false;
    placement.goDown();
    const r = await rollback({ ...input, placementOutage: 'report' });
    expect(r.outcome).toBe('rolled-back');
    expect(destination.count(Procedure.DomainUndefineFlags)).toBe(1); // the leftover is gone all the same
    expect(r.placementWait).toMatch(/^moving the allocations back: .*ECONNREFUSED.*waiting for Placement/);
    expect(r.steps).toContain('allocations: not moved back yet, waiting for Placement');
  });

  it("placementOutage 'report' with Placement up: the allocations go back as always, nothing to wait for", async () => {
    const { source, destination, placement, rollback } = await setup();
    placement.setConsumer(MIGRATION, { '00000000-0000-4000-8000-0000000000a1': { VCPU: 1, MEMORY_MB: 128 } });
    placement.setConsumer(VM.uuid, { '00000000-0000-4000-8000-0000000000b1': { VCPU: 1, MEMORY_MB: 128 } });
    source.job = { type: JobType.None, params: [] };
    destination.incoming = false;
    const r = await rollback({ ...input, placementOutage: 'report' });
    expect(r.outcome).toBe('rolled-back');
    expect(r.placementWait).toBeUndefined();
    expect(Object.keys(placement.consumers.get(VM.uuid)?.allocations ?? {})).toEqual(['00000000-0000-4000-8000-0000000000a1']);
  });

  it('a leftover incoming guest after the job ended is destroyed and undefined (the guest runs on the source)', async () => {
    const { source, destination, rollback } = await setup();
    source.job = { type: JobType.None, params: [] };
    destination.incoming = false; // the job is over: the leftover answers job stats again
    const r = await rollback(input);
    expect(r.outcome).toBe('rolled-back');
    expect(destination.count(Procedure.DomainDestroyFlags)).toBe(1);
    expect(destination.count(Procedure.DomainUndefineFlags)).toBe(1);
    expect(source.count(Procedure.DomainAbortJob)).toBe(0);
  });
});
