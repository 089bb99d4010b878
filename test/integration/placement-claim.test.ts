/**
 * The claim activities (activities/claims.ts) against the lab's real Placement: a VM allocated
 * VCPU, MEMORY_MB, DISK_GB and a custom class keeps every one of them through claim, revert and
 * drop; a refusal changes nothing. Every provider, consumer and resource class made here is
 * removed afterwards.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { placementActivities } from '../../activities/claims';
import type { ActivityDeps } from '../../activities/deps';
import { Inventory } from '../../activities/hosts';
import { moveSourceAllocationToMigration, PlacementClient } from '../../activities/placement';
import type { VmFacts } from '../../model/activity-contract';
import { freshHost, labPlacementClient, owner } from './support/placement-lab';

let client: PlacementClient;
const PMEM = `CUSTOM_FERRY_TEST_PMEM_${randomUUID().slice(0, 8).toUpperCase()}`;
const providers: string[] = [];
const consumers: string[] = [];

beforeAll(async () => {
  client = await labPlacementClient();
  await client.ensureResourceClass(PMEM);
});

afterAll(async () => {
  if (!client) return;
  for (const c of consumers) await client.deleteAllocations(c);
  for (const rp of providers) await client.deleteResourceProvider(rp);
  await client.deleteResourceClass(PMEM);
});

const base = { VCPU: 8, MEMORY_MB: 8192, DISK_GB: 50 };
/** The VM's allocation: more than VCPU and MEMORY_MB. */
const HELD = { VCPU: 2, MEMORY_MB: 1024, DISK_GB: 5, [PMEM]: 1 };

async function host(label: string, inventory: Record<string, number>) {
  const h = freshHost(`ferry-test-${label}`);
  await client.createResourceProvider(h);
  providers.push(h.uuid);
  await client.setInventories(h.uuid, Object.fromEntries(Object.entries(inventory).map(([rc, total]) => [rc, { total }])));
  return { ...h, label };
}

/** Hosts src (with PMEM), dst (with PMEM), bare (no PMEM, much memory); the VM allocated on src. */
async function scene() {
  const src = await host('src', { ...base, [PMEM]: 2 });
  const dst = await host('dst', { ...base, [PMEM]: 2 });
  const bare = await host('bare', { ...base, MEMORY_MB: 65536 });
  const vmUuid = randomUUID();
  consumers.push(vmUuid);
  await client.putAllocations(vmUuid, { allocations: { [src.uuid]: HELD }, ...owner, consumerGeneration: null, consumerType: 'INSTANCE' });
  const inventory = new Inventory(
    [src, dst, bare].map((h) => ({ name: h.name, uri: 'test:///default', peerUri: 'test:///default', rp: h.uuid })),
  );
  const acts = placementActivities({ inventory, placement: client } as unknown as ActivityDeps);
  const vm: VmFacts = { name: `vm-${vmUuid.slice(0, 8)}`, uuid: vmUuid, vcpus: 1, memoryMiB: 128 }; // the domain's figures: not what is claimed
  const migration = () => {
    const id = randomUUID();
    consumers.push(id);
    return id;
  };
  const snapshot = async (migrationId: string) => {
    const v = await client.getAllocations(vmUuid);
    const m = await client.getAllocations(migrationId);
    const usages = Object.fromEntries(
      await Promise.all([src, dst, bare].map(async (h) => [h.label, (await client.getUsages(h.uuid)).usages] as const)),
    );
    return { vm: { allocations: v.allocations, consumerType: v.consumerType, projectId: v.projectId }, migration: m.allocations, usages };
  };
  return { src, dst, bare, vm, acts, migration, snapshot };
}

async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

describe('Placement (real): the claim copies every resource class of the source allocation', () => {
  it('claim, retry, revert: the destination gets VCPU, MEMORY_MB, DISK_GB and the custom class; the revert restores all', async () => {
    const { src, dst, vm, acts, migration, snapshot } = await scene();
    const migrationId = migration();
    const before = await snapshot(migrationId);

    const checked = await acts.chooseDestinationHost({ vm, source: src.name, requested: { host: dst.name, mode: 'check' } });
    expect(checked).toMatchObject({ destination: dst.name, how: 'checked' });
    expect(checked.detail).toContain(`${PMEM}:1`);

    const input = { migrationId, vm, source: src.name, destination: dst.name };
    expect((await acts.claim(input)).outcome).toBe('claimed');
    expect(await client.getAllocations(vm.uuid)).toMatchObject({ allocations: { [dst.uuid]: HELD }, consumerType: 'INSTANCE' });
    expect(await client.getAllocations(migrationId)).toMatchObject({ allocations: { [src.uuid]: HELD }, consumerType: 'MIGRATION', ...owner });
    expect((await client.getUsages(src.uuid)).usages).toEqual(HELD);
    expect((await client.getUsages(dst.uuid)).usages).toEqual(HELD);
    expect((await acts.claim(input)).outcome).toBe('already-claimed');

    expect(await acts.revertClaim({ migrationId, vmUuid: vm.uuid })).toBe('reverted');
    expect(await snapshot(migrationId)).toEqual(before);
    expect(await acts.revertClaim({ migrationId, vmUuid: vm.uuid })).toBe('nothing-to-revert');
    expect(await snapshot(migrationId)).toEqual(before);
  });

  it('claim then drop: the source is freed and the VM keeps every class on the destination', async () => {
    const { src, dst, vm, acts, migration } = await scene();
    const migrationId = migration();
    await acts.claim({ migrationId, vm, source: src.name, destination: dst.name });
    expect(await acts.dropMigrationClaim({ migrationId, vmUuid: vm.uuid })).toBe(true);
    expect((await client.getAllocations(vm.uuid)).allocations).toEqual({ [dst.uuid]: HELD });
    expect((await client.getUsages(src.uuid)).usages).toEqual({ VCPU: 0, MEMORY_MB: 0, DISK_GB: 0, [PMEM]: 0 });
    expect(await acts.dropMigrationClaim({ migrationId, vmUuid: vm.uuid })).toBe(false);
    // After the drop, a late compensation changes nothing.
    expect(await acts.revertClaim({ migrationId, vmUuid: vm.uuid })).toBe('nothing-to-revert');
    expect((await client.getAllocations(vm.uuid)).allocations).toEqual({ [dst.uuid]: HELD });
  });

  it('Placement picks the host that has the custom class, not the one with the most memory', async () => {
    const { src, dst, vm, acts } = await scene();
    const r = await acts.chooseDestinationHost({ vm, source: src.name });
    expect(r).toMatchObject({ destination: dst.name, how: 'placement' });
  });
});

describe('Placement (real): a refused claim changes nothing', () => {
  it('a destination without the custom class: refused by the check and by the claim, allocations exactly as before', async () => {
    const { src, bare, vm, acts, migration, snapshot } = await scene();
    const migrationId = migration();
    const before = await snapshot(migrationId);
    const checked = await failure(acts.chooseDestinationHost({ vm, source: src.name, requested: { host: bare.name, mode: 'check' } }));
    expect(checked.type).toBe('Refused');
    const refused = await failure(acts.claim({ migrationId, vm, source: src.name, destination: bare.name }));
    expect(refused.type).toBe('Refused');
    expect(refused.message).toContain(`${PMEM}:1`);
    expect(await snapshot(migrationId)).toEqual(before);
  });

  it('an earlier attempt had moved the source allocation; the destination is refused: it goes back to the VM', async () => {
    const { src, bare, vm, acts, migration, snapshot } = await scene();
    const migrationId = migration();
    const before = await snapshot(migrationId);
    await moveSourceAllocationToMigration(client, vm.uuid, migrationId);
    const refused = await failure(acts.claim({ migrationId, vm, source: src.name, destination: bare.name }));
    expect(refused.type).toBe('Refused');
    expect(refused.message).toMatch(/went back/);
    expect(await snapshot(migrationId)).toEqual(before);
  });

  it("room taken between the claim's candidates query and its write: Placement refuses the atomic write, nothing moves", async () => {
    const { src, dst, vm, migration, snapshot } = await scene();
    const migrationId = migration();
    const squatter = randomUUID();
    consumers.push(squatter);
    const before = await snapshot(migrationId);
    // The same real Placement, but another writer takes the destination's PMEM namespaces just
    // before the claim's write reaches it.
    let squatted = false;
    const racing = new PlacementClient({
      baseUrl: client.http.baseUrl,
      fetch: async (input, init) => {
        if (init?.method === 'POST' && !squatted) {
          squatted = true;
          await client.putAllocations(squatter, { allocations: { [dst.uuid]: { [PMEM]: 2 } }, ...owner, consumerGeneration: null, consumerType: 'INSTANCE' });
        }
        return fetch(input, init);
      },
    });
    const inventory = new Inventory([src, dst].map((h) => ({ name: h.name, uri: 'test:///default', peerUri: 'test:///default', rp: h.uuid })));
    const acts = placementActivities({ inventory, placement: racing } as unknown as ActivityDeps);
    const refused = await failure(acts.claim({ migrationId, vm, source: src.name, destination: dst.name }));
    expect(squatted).toBe(true);
    expect(refused.type).toBe('Refused');
    expect(refused.message).toMatch(/exceed the capacity/);
    await client.deleteAllocations(squatter);
    expect(await snapshot(migrationId)).toEqual(before);
  });
});

describe('Placement unreachable', () => {
  it('revert and drop fail as retryable PlacementUnavailable', async () => {
    const down = new PlacementClient({ baseUrl: 'http://127.0.0.1:1', timeoutMs: 2000 });
    const acts = placementActivities({ inventory: new Inventory([{ name: 'h', uri: 'test:///default', peerUri: 'test:///default', rp: randomUUID() }]), placement: down } as unknown as ActivityDeps);
    const calls = [() => acts.revertClaim({ migrationId: randomUUID(), vmUuid: randomUUID() }), () => acts.dropMigrationClaim({ migrationId: randomUUID() })];
    for (const call of calls) {
      const err = await failure(call());
      expect(err.type).toBe('PlacementUnavailable');
      expect(err.nonRetryable).toBe(false);
      expect(err.message).toMatch(/waiting for Placement/);
    }
  });
});
