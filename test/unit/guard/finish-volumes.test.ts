/**
 * A block migration's finish removes the copied disk's source volume only through the guard
 * ('clean-source': both hosts observed again, the guest on the destination alone), and keeps it
 * when the guard refuses. The destination's volume stays (it is the guest's disk now); only its
 * marker goes. Against two fake libvirt daemons answering the storage procedures.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { finishActivities } from '../../../activities/finish';
import { createdMarkerName } from '../../../activities/storage/volumes';
import { DomainState, JobOperation, JobType, Procedure, RunningReason, ShutoffReason } from '../../../activities/libvirt';
import { param } from '../../../activities/libvirt/typed-params';
import type { FinishInput, FinishResult } from '../../../model/activity-contract';
import { VM, startPair } from '../watch/fake-hosts';
import { withLocalPool } from './fake-pool';

const MIGRATION = '6f1d8a52-0b7e-4c2a-9f55-00000000f1a2';
const COPY = { target: 'vda', sourcePath: '/srv/local/web-7.qcow2', pool: 'local', volumeName: 'web-7.qcow2', format: 'qcow2', capacityBytes: 1 << 30, allocationBytes: 1 << 20 };
const input: FinishInput = {
  migrationId: MIGRATION, vm: { name: VM.name, uuid: VM.uuid, memoryMiB: 128, vcpus: 1 }, source: 'src', destination: 'dst', diskCopies: [COPY],
};

let stop: (() => Promise<void>) | undefined;
afterEach(async () => { await stop?.(); stop = undefined; });

async function switchedOver() {
  const pair = await startPair();
  stop = pair.stop;
  pair.source.domain = { state: DomainState.Shutoff, reason: ShutoffReason.Migrated };
  pair.source.job = { type: JobType.Completed, params: [param.int('operation', JobOperation.MigrationOut), param.ullong('downtime', 42)] };
  pair.destination.domain = { state: DomainState.Running, reason: RunningReason.Migrated };
  pair.destination.incoming = false;
  const undefine = pair.source.server.handler;
  pair.source.server.handler = (call) => {
    if (call.procedure === Procedure.DomainUndefineFlags) pair.source.domain = null;
    return undefine(call);
  };
  const marker = createdMarkerName(MIGRATION, 'web-7.qcow2');
  const srcFiles = new Set(['web-7.qcow2']);
  const dstFiles = new Set(['web-7.qcow2', marker]);
  const srcDeleted = withLocalPool(pair.source, srcFiles);
  const dstDeleted = withLocalPool(pair.destination, dstFiles);
  const { finishOnHosts } = finishActivities(pair.deps);
  const finish = () => new MockActivityEnvironment().run(finishOnHosts, input) as Promise<FinishResult>;
  return { ...pair, finish, srcFiles, dstFiles, srcDeleted, dstDeleted, marker };
}

describe('finish of a block migration', () => {
  it('both hosts agree: the source volume goes, the destination keeps its volume and drops the marker', async () => {
    const s = await switchedOver();
    const r = await s.finish();
    expect(s.srcDeleted).toEqual(['web-7.qcow2']);
    expect(s.dstDeleted).toEqual([s.marker]);
    expect([...s.dstFiles]).toEqual(['web-7.qcow2']);
    expect(r.volumes).toEqual(['removed the source volume /srv/local/web-7.qcow2']);
  });

  it('the destination guest is gone when the guard looks: the source volume is kept and the result says so', async () => {
    const s = await switchedOver();
    // Gone between the judgement and the guard's look (after the definition's own guarded removal).
    let looks = 0;
    const next = s.destination.server.handler;
    s.destination.server.handler = (call) => {
      if (call.procedure === Procedure.StoragePoolLookupByTargetPath) looks += 1;
      return next(call);
    };
    s.destination.domain = { state: DomainState.Running, reason: RunningReason.Migrated };
    const undefine = s.source.server.handler;
    s.source.server.handler = (call) => {
      if (call.procedure === Procedure.DomainUndefineFlags) s.destination.domain = null;
      return undefine(call);
    };
    const r = await s.finish();
    expect(s.srcDeleted).toEqual([]);
    expect([...s.srcFiles]).toEqual(['web-7.qcow2']);
    expect(looks).toBe(0);
    expect(r.volumes?.[0]).toMatch(/^kept the source volumes \/srv\/local\/web-7.qcow2 on src: /);
  });
});
