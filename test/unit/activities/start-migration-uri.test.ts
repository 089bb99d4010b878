/**
 * The hosts inventory's migrationUri reaches libvirt: startMigration sends it as the destination's
 * VIR_MIGRATE_PARAM_URI (migrate_uri), and without it sends none (libvirt's own choice), to the
 * destination's peerUri. On the fake libvirtd of the watch tests, inside a mock activity context.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { HostConnections } from '../../../activities/connections';
import type { ActivityDeps, MigrationsVisibility } from '../../../activities/deps';
import { Inventory, type HostEntry } from '../../../activities/hosts';
import { DomainState, JobType, MigrateFlags, Procedure, RunningReason } from '../../../activities/libvirt';
import { readDomain, readOptString } from '../../../activities/libvirt/remote-types';
import { readTypedParams, type TypedParam } from '../../../activities/libvirt/typed-params';
import { XdrReader } from '../../../activities/libvirt/xdr';
import type { PlacementClient } from '../../../activities/placement';
import { startActivities } from '../../../activities/start';
import type { StartInput } from '../../../model/activity-contract';
import { FakeHypervisor, precopyJob, VM } from '../watch/fake-hosts';

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/** Starts a migration src -> dst with dst's inventory entry extended by `dst`; returns what the source's libvirtd received. */
async function perform3Of(dst: Partial<HostEntry>, extra: Partial<StartInput> = {}): Promise<{ dconnuri: string | null; params: TypedParam[]; flags: number }> {
  const source = await FakeHypervisor.start();
  const destination = await FakeHypervisor.start();
  source.domain = { state: DomainState.Running, reason: RunningReason.Booted };
  let received: { dconnuri: string | null; params: TypedParam[]; flags: number } | undefined;
  const scripted = source.server.handler;
  source.server.handler = (call) => {
    if (call.procedure !== Procedure.DomainMigratePerform3Params) return scripted(call);
    const r = new XdrReader(call.args);
    readDomain(r);
    const dconnuri = readOptString(r);
    const params = readTypedParams(r, 64);
    r.readVarOpaque(16384); // cookie_in
    received = { dconnuri, params, flags: r.readUint() };
    // The source daemon now owns a running job; the call itself returns when the migration ends.
    source.job = { type: JobType.Unbounded, params: precopyJob(1) };
  };
  const inventory = new Inventory([
    { name: 'src', uri: source.uri, peerUri: 'qemu+tcp://src/system', rp: '00000000-0000-4000-8000-0000000000a1' },
    { name: 'dst', uri: destination.uri, peerUri: 'qemu+tcp://dst/system', rp: '00000000-0000-4000-8000-0000000000b1', ...dst },
  ]);
  const connections = new HostConnections(inventory);
  cleanup.push(async () => {
    await connections.closeAll();
    await source.stop();
    await destination.stop();
  });
  const deps: ActivityDeps = { inventory, connections, placement: {} as PlacementClient, visibility: {} as MigrationsVisibility, pollMs: 20, watch: {} };
  const { startMigration } = startActivities(deps);
  const result = await new MockActivityEnvironment().run(startMigration, {
    migrationId: '7d0c2b8e-4a1f-4c3e-9b2d-1e0f2a3b4c5d',
    vm: { name: VM.name, uuid: VM.uuid, memoryMiB: 128, vcpus: 1 },
    source: 'src',
    destination: 'dst',
    destXml: '<domain/>',
    postcopy: false,
    bandwidthMiBps: null,
    initialMaxDowntimeMs: null,
    ...extra,
  });
  expect(result).toEqual({ outcome: 'started' });
  if (!received) throw new Error('the source libvirtd received no MigratePerform3Params');
  return received;
}

describe("startMigration and the destination's migrationUri", () => {
  it('sent as migrate_uri, to the peerUri', async () => {
    const sent = await perform3Of({ migrationUri: 'tcp://10.0.0.2:49152' });
    expect(sent.dconnuri).toBe('qemu+tcp://dst/system');
    expect(sent.params.find((p) => p.field === 'migrate_uri')?.value).toBe('tcp://10.0.0.2:49152');
  });

  it('absent from the inventory: no migrate_uri (libvirt chooses)', async () => {
    const sent = await perform3Of({});
    expect(sent.params.map((p) => p.field)).not.toContain('migrate_uri');
    expect(sent.params.map((p) => p.field)).toContain('destination_xml');
  });
});

describe('startMigration with a block migration', () => {
  it('sets NON_SHARED_DISK and lists only the copied disks in migrate_disks', async () => {
    const sent = await perform3Of({ migrationUri: 'tcp://10.0.0.2' }, { migrateDisks: ['vda', 'vdc'] });
    expect(sent.flags & MigrateFlags.NonSharedDisk).toBe(MigrateFlags.NonSharedDisk);
    expect(sent.flags & MigrateFlags.NonSharedInc).toBe(0);
    expect(sent.params.filter((p) => p.field === 'migrate_disks').map((p) => p.value)).toEqual(['vda', 'vdc']);
  });

  it('without copied disks: no NON_SHARED_DISK, no migrate_disks (a shared disk stays where it is)', async () => {
    const sent = await perform3Of({ migrationUri: 'tcp://10.0.0.2' });
    expect(sent.flags & MigrateFlags.NonSharedDisk).toBe(0);
    expect(sent.params.map((p) => p.field)).not.toContain('migrate_disks');
    expect(sent.flags & MigrateFlags.Unsafe).toBe(0);
  });

  it('disks the plan proved shared waive libvirt\'s filesystem-type check (UNSAFE); none: the check stays', async () => {
    const vouched = await perform3Of({ migrationUri: 'tcp://10.0.0.2' }, { sharedDisksVouched: ['vda'] });
    expect(vouched.flags & MigrateFlags.Unsafe).toBe(MigrateFlags.Unsafe);
    expect(vouched.flags & MigrateFlags.NonSharedDisk).toBe(0);
    const none = await perform3Of({ migrationUri: 'tcp://10.0.0.2' }, { sharedDisksVouched: [] });
    expect(none.flags & MigrateFlags.Unsafe).toBe(0);
  });
});
