import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { allocateVmOnProvider, ensureHostProvider, type PlacementClient, PlacementError } from '../../activities/placement';
import { freshHost, labPlacementClient, owner } from './support/placement-lab';

let client: PlacementClient;

beforeAll(async () => {
  client = await labPlacementClient();
});

describe('Placement (real): allocations', () => {
  it('puts and gets a consumer allocation with its generation and type', async () => {
    const h = freshHost();
    await ensureHostProvider(client, { ...h, vcpus: 4, memoryMb: 4096, diskGb: 20 });
    const vm = randomUUID();
    expect(await client.getAllocations(vm)).toEqual({ consumerUuid: vm, allocations: {}, consumerGeneration: null });
    await client.putAllocations(vm, {
      allocations: { [h.uuid]: { VCPU: 2, MEMORY_MB: 1024 } },
      ...owner,
      consumerGeneration: null,
      consumerType: 'INSTANCE',
    });
    const got = await client.getAllocations(vm);
    expect(got).toEqual({
      consumerUuid: vm,
      allocations: { [h.uuid]: { VCPU: 2, MEMORY_MB: 1024 } },
      consumerGeneration: 1,
      projectId: owner.projectId,
      userId: owner.userId,
      consumerType: 'INSTANCE',
    });
    expect((await client.getUsages(h.uuid)).usages).toMatchObject({ VCPU: 2, MEMORY_MB: 1024, DISK_GB: 0 });
    expect(await client.deleteAllocations(vm)).toBe(true);
    expect(await client.deleteAllocations(vm)).toBe(false);
    expect((await client.getUsages(h.uuid)).usages).toMatchObject({ VCPU: 0, MEMORY_MB: 0 });
  });

  it('a stale consumer generation gets a 409 PlacementError placement.concurrent_update', async () => {
    const h = freshHost();
    await ensureHostProvider(client, { ...h, vcpus: 4, memoryMb: 4096, diskGb: 20 });
    const vm = randomUUID();
    await allocateVmOnProvider(client, { vmUuid: vm, rpUuid: h.uuid, vcpus: 1, memoryMb: 512, diskGb: 1, ...owner });
    const write = { allocations: { [h.uuid]: { VCPU: 2 } }, ...owner, consumerType: 'INSTANCE' as const };
    const err = await client.putAllocations(vm, { ...write, consumerGeneration: null }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlacementError);
    const pe = err as PlacementError;
    expect(pe.status).toBe(409);
    expect(pe.code).toBe('placement.concurrent_update');
    expect(pe.title).toBe('Conflict');
    expect(pe.detail).toMatch(/consumer generation conflict/);
    expect(pe.isConcurrentUpdate).toBe(true);
    // Nothing changed; the right generation succeeds.
    const now = await client.getAllocations(vm);
    expect(now.allocations[h.uuid]).toEqual({ VCPU: 1, MEMORY_MB: 512, DISK_GB: 1 });
    await client.putAllocations(vm, { ...write, consumerGeneration: now.consumerGeneration });
    expect((await client.getAllocations(vm)).consumerGeneration).toBe(now.consumerGeneration! + 1);
  });

  it('allocateVmOnProvider is idempotent', async () => {
    const h = freshHost();
    await ensureHostProvider(client, { ...h, vcpus: 2, memoryMb: 2048, diskGb: 10 });
    const spec = { vmUuid: randomUUID(), rpUuid: h.uuid, vcpus: 1, memoryMb: 512, diskGb: 2, ...owner };
    expect((await allocateVmOnProvider(client, spec)).outcome).toBe('allocated');
    expect((await allocateVmOnProvider(client, spec)).outcome).toBe('already-allocated');
    expect((await client.getUsages(h.uuid)).usages).toEqual({ VCPU: 1, MEMORY_MB: 512, DISK_GB: 2 });
  });

  it('allocation candidates respect capacity', async () => {
    const small = freshHost();
    const big = freshHost();
    await ensureHostProvider(client, { ...small, vcpus: 2, memoryMb: 2048, diskGb: 10 });
    await ensureHostProvider(client, { ...big, vcpus: 8, memoryMb: 16384, diskGb: 100 });
    const want = { VCPU: 1, MEMORY_MB: 512 };

    const before = await client.getAllocationCandidates({ resources: want, inTree: small.uuid, limit: 5 });
    expect(before.allocationRequests).toEqual([{ allocations: { [small.uuid]: want }, mappings: { '': [small.uuid] } }]);
    expect(before.providerSummaries[small.uuid]!.resources.VCPU).toEqual({ capacity: 2, used: 0 });

    // Fill the small host's VCPUs: it can no longer be a candidate; the big one still is.
    await allocateVmOnProvider(client, { vmUuid: randomUUID(), rpUuid: small.uuid, vcpus: 2, memoryMb: 512, diskGb: 0, ...owner });
    const full = await client.getAllocationCandidates({ resources: want, inTree: small.uuid });
    expect(full.allocationRequests).toEqual([]);
    const other = await client.getAllocationCandidates({ resources: want, inTree: big.uuid });
    expect(other.allocationRequests.map((r) => Object.keys(r.allocations))).toEqual([[big.uuid]]);
    // More than the big host has at all: no candidate.
    expect((await client.getAllocationCandidates({ resources: { VCPU: 9 }, inTree: big.uuid })).allocationRequests).toEqual([]);
  });
});
