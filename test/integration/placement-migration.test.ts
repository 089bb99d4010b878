import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  allocateVmOnProvider,
  claimDestination,
  dropMigrationAllocation,
  ensureHostProvider,
  moveSourceAllocationToMigration,
  PlacementClient,
  revertMigrationAllocation,
} from '../../activities/placement';
import { freshHost, labPlacementClient, owner } from './support/placement-lab';

let client: PlacementClient;

beforeAll(async () => {
  client = await labPlacementClient();
});

const flavor = { vcpus: 2, memoryMb: 1024, diskGb: 5 };
const resources = { VCPU: 2, MEMORY_MB: 1024, DISK_GB: 5 };

async function twoHostsAndAVm() {
  const src = freshHost('lab-src');
  const dst = freshHost('lab-dst');
  await ensureHostProvider(client, { ...src, vcpus: 8, memoryMb: 8192, diskGb: 50 });
  await ensureHostProvider(client, { ...dst, vcpus: 8, memoryMb: 8192, diskGb: 50 });
  const vm = randomUUID();
  await allocateVmOnProvider(client, { vmUuid: vm, rpUuid: src.uuid, ...flavor, ...owner });
  return { src, dst, vm, migration: randomUUID() };
}

async function snapshot(vm: string, migration: string, rps: string[]) {
  const v = await client.getAllocations(vm);
  const m = await client.getAllocations(migration);
  const usages = Object.fromEntries(await Promise.all(rps.map(async (rp) => [rp, (await client.getUsages(rp)).usages] as const)));
  return { vm: { allocations: v.allocations, projectId: v.projectId, userId: v.userId, consumerType: v.consumerType }, migration: m.allocations, usages };
}

describe('Placement (real): the migration-consumer saga', () => {
  it('move + claim + revert leaves allocations exactly as before', async () => {
    const { src, dst, vm, migration } = await twoHostsAndAVm();
    const before = await snapshot(vm, migration, [src.uuid, dst.uuid]);
    expect(before.migration).toEqual({});

    const moved = await moveSourceAllocationToMigration(client, vm, migration);
    expect(moved).toEqual({ outcome: 'moved', migrationAllocations: { [src.uuid]: resources } });
    const mid = await client.getAllocations(migration);
    expect(mid).toMatchObject({ allocations: { [src.uuid]: resources }, consumerType: 'MIGRATION', ...owner });
    expect((await client.getAllocations(vm)).allocations).toEqual({});
    expect((await moveSourceAllocationToMigration(client, vm, migration)).outcome).toBe('already-moved');

    await claimDestination(client, { vmUuid: vm, destinationRpUuid: dst.uuid, resources, ...owner });
    // During the migration both hosts are charged: source by the migration, destination by the VM.
    expect((await client.getUsages(src.uuid)).usages).toEqual(resources);
    expect((await client.getUsages(dst.uuid)).usages).toEqual(resources);

    const reverted = await revertMigrationAllocation(client, migration, vm);
    expect(reverted).toEqual({ outcome: 'reverted', vmAllocations: { [src.uuid]: resources } });
    expect(await snapshot(vm, migration, [src.uuid, dst.uuid])).toEqual(before);
    expect((await revertMigrationAllocation(client, migration, vm)).outcome).toBe('nothing-to-revert');
    expect(await snapshot(vm, migration, [src.uuid, dst.uuid])).toEqual(before);
  });

  it('move + claim + drop frees the source and keeps the VM on the destination', async () => {
    const { src, dst, vm, migration } = await twoHostsAndAVm();
    await moveSourceAllocationToMigration(client, vm, migration);
    await claimDestination(client, { vmUuid: vm, destinationRpUuid: dst.uuid, resources, ...owner });
    expect((await dropMigrationAllocation(client, migration, { vmUuid: vm })).outcome).toBe('dropped');
    expect((await dropMigrationAllocation(client, migration, { vmUuid: vm })).outcome).toBe('nothing-to-drop');
    expect((await client.getAllocations(vm)).allocations).toEqual({ [dst.uuid]: resources });
    expect((await client.getUsages(src.uuid)).usages).toEqual({ VCPU: 0, MEMORY_MB: 0, DISK_GB: 0 });
  });

  it('a concurrent writer between read and write: the 409 is retried by re-reading, not by overwriting', async () => {
    const { src, vm, migration } = await twoHostsAndAVm();
    const plain = await labPlacementClient();
    let interfered = 0;
    let posts = 0;
    // The same real Placement, but the first POST /allocations is preceded by another writer
    // changing the VM's consumer (its generation moves on), exactly between our read and write.
    const racing = new PlacementClient({
      baseUrl: plain.http.baseUrl,
      fetch: async (input, init) => {
        if (init?.method === 'POST') posts++;
        if (init?.method === 'POST' && interfered === 0) {
          interfered++;
          const cur = await plain.getAllocations(vm);
          await plain.putAllocations(vm, {
            allocations: { [src.uuid]: { ...resources, VCPU: 1 } },
            ...owner,
            consumerGeneration: cur.consumerGeneration,
            consumerType: 'INSTANCE',
          });
        }
        return fetch(input, init);
      },
    });
    const moved = await moveSourceAllocationToMigration(racing, vm, migration);
    expect(interfered).toBe(1);
    expect(posts).toBe(2); // the first was refused with 409 concurrent_update, the second carried the re-read generation
    // What moved is what the VM held after the other writer, i.e. it was re-read.
    expect(moved).toEqual({ outcome: 'moved', migrationAllocations: { [src.uuid]: { ...resources, VCPU: 1 } } });
    expect((await client.getAllocations(migration)).allocations).toEqual({ [src.uuid]: { ...resources, VCPU: 1 } });
    expect((await client.getAllocations(vm)).allocations).toEqual({});
    await revertMigrationAllocation(client, migration, vm);
    expect((await client.getAllocations(vm)).allocations).toEqual({ [src.uuid]: { ...resources, VCPU: 1 } });
  });
});
