/**
 * A block migration's roll-back removes the destination volume it created — through the guard,
 * after the incoming guest is gone — and nothing while the guest may be on the destination.
 * Against two fake libvirt daemons, the destination answering the storage procedures.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { rollbackActivities } from '../../../activities/rollback';
import { createdMarkerName } from '../../../activities/storage/volumes';
import { DomainState, JobType, PausedReason, Procedure, RunningReason } from '../../../activities/libvirt';
import { PlacementClient } from '../../../activities/placement';
import type { RollbackInput, RollbackResult } from '../../../model/activity-contract';
import { FakePlacement } from '../placement/fake-placement';
import { VM, precopyJob, startPair } from '../watch/fake-hosts';
import { withLocalPool } from './fake-pool';

const MIGRATION = '6f1d8a52-0b7e-4c2a-9f55-00000000c0de';
const COPY = { target: 'vda', sourcePath: '/srv/local/web-7.qcow2', pool: 'local', volumeName: 'web-7.qcow2', format: 'qcow2', capacityBytes: 1 << 30, allocationBytes: 1 << 20 };
const input: RollbackInput = {
  migrationId: MIGRATION, vm: { name: VM.name, uuid: VM.uuid, memoryMiB: 128, vcpus: 1 }, source: 'src', destination: 'dst', resumeIfPaused: false,
  diskCopies: [COPY],
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
  return { ...pair, rollback };
}

describe('roll-back of a block migration', () => {
  it('removes the volume this migration created, after the incoming guest, then its marker; a volume without the marker stays', async () => {
    const { source, destination, rollback } = await setup();
    source.job = { type: JobType.None, params: [] };
    destination.incoming = false;
    // libvirt's destroy + undefine leave no incoming guest.
    const next = destination.server.handler;
    destination.server.handler = (call) => {
      if (call.procedure === Procedure.DomainUndefineFlags) destination.domain = null;
      return next(call);
    };
    const marker = createdMarkerName(MIGRATION, 'web-7.qcow2');
    const files = new Set(['web-7.qcow2', marker, 'other.qcow2']);
    const deleted = withLocalPool(destination, files);
    const r = await rollback(input);
    expect(r.outcome).toBe('rolled-back');
    expect(deleted).toEqual(['web-7.qcow2', marker]);
    expect([...files]).toEqual(['other.qcow2']);
    expect(r.steps).toContain("removed web-7.qcow2 from the destination's pool 'local' (created by this migration)");

    // A volume of that name this migration did not create (no marker) is never removed.
    const theirs = new Set(['web-7.qcow2']);
    const none = withLocalPool(destination, theirs);
    expect((await rollback(input)).outcome).toBe('rolled-back');
    expect(none).toEqual([]);
    expect([...theirs]).toEqual(['web-7.qcow2']);
  });

  it('post-copy running: the guard refuses, no volume is touched', async () => {
    const { source, destination, rollback } = await setup();
    source.domain = { state: DomainState.Paused, reason: PausedReason.Postcopy };
    source.job = { type: JobType.Unbounded, params: precopyJob(2) };
    destination.domain = { state: DomainState.Running, reason: RunningReason.Postcopy };
    const files = new Set(['web-7.qcow2', createdMarkerName(MIGRATION, 'web-7.qcow2')]);
    const deleted = withLocalPool(destination, files);
    const r = await rollback(input);
    expect(r.outcome).toBe('refused');
    expect(deleted).toEqual([]);
    expect(destination.count(Procedure.StorageVolDelete)).toBe(0);
  });
});
