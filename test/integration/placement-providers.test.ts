import { beforeAll, describe, expect, it } from 'vitest';
import { ensureHostProvider, type PlacementClient, PlacementError } from '../../activities/placement';
import { freshHost, labPlacementClient } from './support/placement-lab';

let client: PlacementClient;

beforeAll(async () => {
  client = await labPlacementClient();
});

describe('Placement (real): resource providers and inventories', () => {
  it('answers the 1.39 microversion range', async () => {
    const v = await client.versions();
    expect(v.minVersion).toBe('1.0');
    expect(Number(v.maxVersion.split('.')[1])).toBeGreaterThanOrEqual(39);
  });

  it('creates a provider with an explicit uuid and reads it back', async () => {
    const h = freshHost();
    const created = await client.createResourceProvider(h);
    expect(created).toMatchObject({ uuid: h.uuid, name: h.name, generation: 0 });
    expect(await client.getResourceProvider(h.uuid)).toMatchObject({ uuid: h.uuid, name: h.name });
    expect((await client.listResourceProviders({ name: h.name })).map((p) => p.uuid)).toEqual([h.uuid]);
    const dup = await client.createResourceProvider(h).catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(PlacementError);
    expect(dup).toMatchObject({ status: 409, code: 'placement.duplicate_name' });
    expect(await client.getResourceProvider(randomLikeUuid())).toBeUndefined();
  });

  it('ensureHostProvider is idempotent and sets the inventory', async () => {
    const h = freshHost();
    const spec = { ...h, vcpus: 4, memoryMb: 8192, diskGb: 40 };
    const first = await ensureHostProvider(client, spec);
    expect(first.provider.uuid).toBe(h.uuid);
    expect(first.inventories.inventories).toMatchObject({
      VCPU: { total: 4, reserved: 0, allocation_ratio: 1 },
      MEMORY_MB: { total: 8192 },
      DISK_GB: { total: 40 },
    });
    const again = await ensureHostProvider(client, spec);
    expect(again.provider.generation).toBe(first.provider.generation); // nothing rewritten
    const bigger = await ensureHostProvider(client, { ...spec, vcpus: 8 });
    expect(bigger.inventories.inventories.VCPU!.total).toBe(8);
    expect(bigger.provider.generation).toBe(first.provider.generation + 1);
    expect((await client.getUsages(h.uuid)).usages).toEqual({ VCPU: 0, MEMORY_MB: 0, DISK_GB: 0 });
  });

  it('a stale provider generation is a 409 concurrent_update; setInventories re-reads it', async () => {
    const h = freshHost();
    await ensureHostProvider(client, { ...h, vcpus: 2, memoryMb: 1024, diskGb: 10 });
    const stale = await client.putInventories(h.uuid, 0, { VCPU: { total: 3 } }).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(PlacementError);
    expect(stale).toMatchObject({ status: 409, code: 'placement.concurrent_update' });
    const inv = await client.setInventories(h.uuid, { VCPU: { total: 3 }, MEMORY_MB: { total: 1024 } });
    expect(Object.keys(inv.inventories).sort()).toEqual(['MEMORY_MB', 'VCPU']);
    expect(inv.inventories.VCPU!.total).toBe(3);
  });
});

function randomLikeUuid(): string {
  return freshHost().uuid;
}
