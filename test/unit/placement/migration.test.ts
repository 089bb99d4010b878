import { describe, expect, it } from 'vitest';
import {
  allocateVmOnProvider,
  claimDestination,
  dropMigrationAllocation,
  ensureHostProvider,
  moveSourceAllocationToMigration,
  PlacementClient,
  PlacementStateError,
  revertMigrationAllocation,
} from '../../../activities/placement';
import { FakePlacement } from './fake-placement';

const SRC = '11111111-1111-4111-8111-111111111111';
const DST = '44444444-4444-4444-8444-444444444444';
const VM = '22222222-2222-4222-8222-222222222222';
const MIG = '33333333-3333-4333-8333-333333333333';
const noSleep = { sleep: async () => undefined };
const vmResources = { VCPU: 1, MEMORY_MB: 512 };

function setup() {
  const fake = new FakePlacement();
  const client = new PlacementClient({ baseUrl: 'http://placement.test', fetch: fake.fetch });
  fake.setConsumer(VM, { [SRC]: { ...vmResources } }, 1);
  return { fake, client };
}

/** consumer -> consumer_generation of each POST /allocations, in order. */
function consumerGenerationsWritten(fake: FakePlacement): Record<string, unknown>[] {
  return fake
    .writes()
    .filter((r) => r.method === 'POST')
    .map((r) => Object.fromEntries(Object.entries(r.body as Record<string, { consumer_generation: unknown }>).map(([k, v]) => [k, v.consumer_generation])));
}

describe('moveSourceAllocationToMigration', () => {
  it("moves the VM's allocation to the migration consumer in one POST", async () => {
    const { fake, client } = setup();
    const res = await moveSourceAllocationToMigration(client, VM, MIG, noSleep);
    expect(res).toEqual({ outcome: 'moved', migrationAllocations: { [SRC]: vmResources } });
    expect(fake.consumers.has(VM)).toBe(false);
    expect(fake.consumers.get(MIG)).toMatchObject({ allocations: { [SRC]: vmResources }, consumerType: 'MIGRATION', projectId: 'proj' });
    expect(fake.writes()).toHaveLength(1);
    expect(consumerGenerationsWritten(fake)).toEqual([{ [VM]: 1, [MIG]: null }]);
  });

  it('is idempotent: a second call finds the work done and writes nothing', async () => {
    const { fake, client } = setup();
    await moveSourceAllocationToMigration(client, VM, MIG, noSleep);
    const again = await moveSourceAllocationToMigration(client, VM, MIG, noSleep);
    expect(again.outcome).toBe('already-moved');
    expect(fake.writes()).toHaveLength(1);
  });

  it('retries a 409 concurrent_update by re-reading, and writes the new generation', async () => {
    const { fake, client } = setup();
    let interfered = false;
    fake.onRequest = (req) => {
      if (req.method === 'POST' && !interfered) {
        interfered = true;
        fake.touchConsumer(VM); // someone else updated the VM's consumer after our read
      }
    };
    const res = await moveSourceAllocationToMigration(client, VM, MIG, noSleep);
    expect(res.outcome).toBe('moved');
    expect(consumerGenerationsWritten(fake)).toEqual([
      { [VM]: 1, [MIG]: null }, // rejected: stale
      { [VM]: 2, [MIG]: null }, // re-read, re-applied
    ]);
    // Reads happened between the two writes: nothing was overwritten blindly.
    const methods = fake.requests.map((r) => r.method);
    expect(methods).toEqual(['GET', 'GET', 'POST', 'GET', 'GET', 'POST']);
  });

  it('after a conflict, re-decides: when another writer already moved it, it does not move again', async () => {
    const { fake, client } = setup();
    fake.onRequest = (req) => {
      if (req.method === 'POST' && fake.writes().length === 1) {
        // A retried twin of this activity won the race.
        fake.consumers.set(MIG, { ...fake.consumers.get(VM)!, consumerType: 'MIGRATION' });
        fake.consumers.delete(VM);
      }
    };
    const res = await moveSourceAllocationToMigration(client, VM, MIG, noSleep);
    expect(res.outcome).toBe('already-moved');
    expect(fake.writes()).toHaveLength(1);
  });

  it('names the problem when the VM holds nothing', async () => {
    const { fake, client } = setup();
    fake.consumers.delete(VM);
    const err = await moveSourceAllocationToMigration(client, VM, MIG, noSleep).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlacementStateError);
    expect((err as PlacementStateError).code).toBe('ferry.placement.no_source_allocation');
    expect((err as Error).message).toContain(VM);
  });

  it('gives up after the configured attempts when the conflict persists', async () => {
    const { fake, client } = setup();
    fake.onRequest = (req) => {
      if (req.method === 'POST') fake.touchConsumer(VM);
    };
    await expect(moveSourceAllocationToMigration(client, VM, MIG, { ...noSleep, attempts: 4 })).rejects.toMatchObject({
      code: 'ferry.placement.conflict_retries_exhausted',
    });
    expect(fake.writes()).toHaveLength(4);
    expect(fake.consumers.get(VM)!.allocations).toEqual({ [SRC]: vmResources });
    expect(fake.consumers.has(MIG)).toBe(false);
  });
});

describe('claimDestination / revertMigrationAllocation / dropMigrationAllocation', () => {
  it('move, claim, revert leaves exactly the original allocation', async () => {
    const { fake, client } = setup();
    await moveSourceAllocationToMigration(client, VM, MIG, noSleep);
    const claim = await claimDestination(client, { vmUuid: VM, destinationRpUuid: DST, resources: vmResources, projectId: 'proj', userId: 'user' });
    expect(claim.outcome).toBe('claimed');
    expect(fake.consumers.get(VM)!.allocations).toEqual({ [DST]: vmResources });
    const rev = await revertMigrationAllocation(client, MIG, VM, noSleep);
    expect(rev).toEqual({ outcome: 'reverted', vmAllocations: { [SRC]: vmResources } });
    expect(fake.consumers.get(VM)).toMatchObject({ allocations: { [SRC]: vmResources }, consumerType: 'INSTANCE' });
    expect(fake.consumers.has(MIG)).toBe(false);
    // The revert carried both generations it had just read.
    expect(consumerGenerationsWritten(fake).at(-1)).toEqual({ [VM]: 1, [MIG]: 1 });
    expect((await revertMigrationAllocation(client, MIG, VM, noSleep)).outcome).toBe('nothing-to-revert');
  });

  it('revert retries a conflict on the VM consumer by re-reading', async () => {
    const { fake, client } = setup();
    await moveSourceAllocationToMigration(client, VM, MIG, noSleep);
    await claimDestination(client, { vmUuid: VM, destinationRpUuid: DST, resources: vmResources, projectId: 'proj', userId: 'user' });
    let interfered = false;
    fake.onRequest = (req) => {
      if (req.method === 'POST' && !interfered) {
        interfered = true;
        fake.touchConsumer(VM);
      }
    };
    const rev = await revertMigrationAllocation(client, MIG, VM, noSleep);
    expect(rev.outcome).toBe('reverted');
    expect(fake.consumers.get(VM)!.allocations).toEqual({ [SRC]: vmResources });
  });

  it('claim refuses while the VM still holds its source allocation', async () => {
    const { client } = setup();
    await expect(
      claimDestination(client, { vmUuid: VM, destinationRpUuid: DST, resources: vmResources, projectId: 'proj', userId: 'user' }),
    ).rejects.toMatchObject({ code: 'ferry.placement.vm_still_allocated' });
  });

  it('claim is idempotent and drop reports whether anything was dropped', async () => {
    const { client } = setup();
    await moveSourceAllocationToMigration(client, VM, MIG, noSleep);
    const c = { vmUuid: VM, destinationRpUuid: DST, resources: vmResources, projectId: 'proj', userId: 'user' };
    expect((await claimDestination(client, c)).outcome).toBe('claimed');
    expect((await claimDestination(client, c)).outcome).toBe('already-claimed');
    expect(await dropMigrationAllocation(client, MIG)).toEqual({ outcome: 'dropped', dropped: { [SRC]: vmResources } });
    expect(await dropMigrationAllocation(client, MIG)).toEqual({ outcome: 'nothing-to-drop', dropped: {} });
  });
});

describe('lab seeding helpers', () => {
  it('ensureHostProvider creates once and only rewrites inventory that differs', async () => {
    const fake = new FakePlacement();
    const client = new PlacementClient({ baseUrl: 'http://p', fetch: fake.fetch });
    const spec = { name: 'host-a', uuid: SRC, vcpus: 4, memoryMb: 4096, diskGb: 40 };
    const first = await ensureHostProvider(client, spec);
    expect(first.inventories.inventories.VCPU!.total).toBe(4);
    const writes = fake.writes().length;
    await ensureHostProvider(client, spec);
    expect(fake.writes().length).toBe(writes);
    await ensureHostProvider(client, { ...spec, vcpus: 8 });
    expect(fake.providers.get(SRC)!.inventories.VCPU!.total).toBe(8);
  });

  it('ensureHostProvider publishes custom classes (vPMEM namespaces): the class is created, then counted in the inventory', async () => {
    const fake = new FakePlacement();
    const client = new PlacementClient({ baseUrl: 'http://p', fetch: fake.fetch });
    const spec = { name: 'host-a', uuid: SRC, vcpus: 4, memoryMb: 4096, diskGb: 40, custom: { CUSTOM_PMEM_NAMESPACE_64MB: 2 } };
    await ensureHostProvider(client, spec);
    expect([...fake.customClasses]).toEqual(['CUSTOM_PMEM_NAMESPACE_64MB']);
    expect(fake.providers.get(SRC)!.inventories.CUSTOM_PMEM_NAMESPACE_64MB!.total).toBe(2);
    const writes = fake.writes().filter((w) => w.path.includes('/inventories')).length;
    await ensureHostProvider(client, spec);
    expect(fake.writes().filter((w) => w.path.includes('/inventories')).length).toBe(writes);
    await expect(ensureHostProvider(client, { ...spec, custom: { PMEM_64MB: 1 } })).rejects.toThrow(/'PMEM_64MB' is no custom resource class/);
  });

  it('allocateVmOnProvider holds custom classes too (a vPMEM guest holds its namespaces)', async () => {
    const fake = new FakePlacement();
    const client = new PlacementClient({ baseUrl: 'http://p', fetch: fake.fetch });
    const spec = { vmUuid: VM, rpUuid: SRC, vcpus: 1, memoryMb: 512, diskGb: 0, custom: { CUSTOM_PMEM_NAMESPACE_64MB: 1 }, projectId: 'p', userId: 'u' };
    expect((await allocateVmOnProvider(client, spec)).outcome).toBe('allocated');
    expect(fake.consumers.get(VM)!.allocations).toEqual({ [SRC]: { VCPU: 1, MEMORY_MB: 512, CUSTOM_PMEM_NAMESPACE_64MB: 1 } });
  });

  it('allocateVmOnProvider is idempotent and refuses a VM allocated elsewhere', async () => {
    const fake = new FakePlacement();
    const client = new PlacementClient({ baseUrl: 'http://p', fetch: fake.fetch });
    const spec = { vmUuid: VM, rpUuid: SRC, vcpus: 1, memoryMb: 512, diskGb: 0, projectId: 'p', userId: 'u' };
    expect((await allocateVmOnProvider(client, spec)).outcome).toBe('allocated');
    expect(fake.consumers.get(VM)!.allocations).toEqual({ [SRC]: { VCPU: 1, MEMORY_MB: 512 } });
    expect((await allocateVmOnProvider(client, spec)).outcome).toBe('already-allocated');
    await expect(allocateVmOnProvider(client, { ...spec, rpUuid: DST })).rejects.toMatchObject({
      code: 'ferry.placement.vm_allocated_elsewhere',
    });
  });
});
