import { describe, expect, it } from 'vitest';
import { formatResources, PlacementClient, PlacementError, PlacementStateError } from '../../../activities/placement';
import { error, FakePlacement, json } from './fake-placement';

const RP = '11111111-1111-4111-8111-111111111111';
const VM = '22222222-2222-4222-8222-222222222222';
const noSleep = { sleep: async () => undefined };

function setup(microversion?: `${number}.${number}`) {
  const fake = new FakePlacement();
  const client = new PlacementClient({ baseUrl: 'http://placement.test', fetch: fake.fetch, ...(microversion && { microversion }) });
  return { fake, client };
}

describe('PlacementClient requests', () => {
  it('PUT /allocations carries generation, owner and consumer_type at 1.39', async () => {
    const { fake, client } = setup();
    await client.putAllocations(VM, {
      allocations: { [RP]: { VCPU: 1, MEMORY_MB: 512 } },
      projectId: 'p',
      userId: 'u',
      consumerGeneration: null,
      consumerType: 'MIGRATION',
    });
    const req = fake.writes()[0]!;
    expect(req.method).toBe('PUT');
    expect(req.path).toBe(`/allocations/${VM}`);
    expect(req.body).toEqual({
      allocations: { [RP]: { resources: { VCPU: 1, MEMORY_MB: 512 } } },
      project_id: 'p',
      user_id: 'u',
      consumer_generation: null,
      consumer_type: 'MIGRATION',
    });
  });

  it('leaves consumer_type out below 1.38', async () => {
    const { fake, client } = setup('1.28');
    fake.setConsumer(VM, { [RP]: { VCPU: 1 } }, 3);
    await client.putAllocations(VM, { allocations: { [RP]: { VCPU: 1 } }, projectId: 'p', userId: 'u', consumerGeneration: 3 });
    expect(fake.writes()[0]!.body).not.toHaveProperty('consumer_type');
    expect(fake.writes()[0]!.body).toHaveProperty('consumer_generation', 3);
  });

  it('POST /allocations writes several consumers in one body', async () => {
    const { fake, client } = setup();
    fake.setConsumer(VM, { [RP]: { VCPU: 1 } }, 4);
    await client.postAllocations({
      [VM]: { allocations: {}, projectId: 'p', userId: 'u', consumerGeneration: 4, consumerType: 'INSTANCE' },
      mig: { allocations: { [RP]: { VCPU: 1 } }, projectId: 'p', userId: 'u', consumerGeneration: null, consumerType: 'MIGRATION' },
    });
    const req = fake.writes()[0]!;
    expect(req.path).toBe('/allocations');
    expect(req.body).toEqual({
      [VM]: { allocations: {}, project_id: 'p', user_id: 'u', consumer_generation: 4, consumer_type: 'INSTANCE' },
      mig: {
        allocations: { [RP]: { resources: { VCPU: 1 } } },
        project_id: 'p',
        user_id: 'u',
        consumer_generation: null,
        consumer_type: 'MIGRATION',
      },
    });
  });

  it('reads an unknown consumer as no allocations with generation null', async () => {
    const { client } = setup();
    expect(await client.getAllocations(VM)).toEqual({ consumerUuid: VM, allocations: {}, consumerGeneration: null });
  });

  it('reads allocations flattened to provider -> resources', async () => {
    const { fake, client } = setup();
    fake.setConsumer(VM, { [RP]: { VCPU: 2 } }, 5);
    expect(await client.getAllocations(VM)).toEqual({
      consumerUuid: VM,
      allocations: { [RP]: { VCPU: 2 } },
      consumerGeneration: 5,
      projectId: 'proj',
      userId: 'user',
      consumerType: 'INSTANCE',
    });
  });

  it('builds the allocation candidates query', async () => {
    const { fake, client } = setup();
    fake.onRequest = () => json(200, { allocation_requests: [], provider_summaries: {} });
    await client.getAllocationCandidates({ resources: { VCPU: 1, MEMORY_MB: 512, DISK_GB: 0 }, inTree: RP, limit: 3 });
    const url = new URL('http://x' + fake.requests[0]!.path);
    expect(url.pathname).toBe('/allocation_candidates');
    expect(url.searchParams.get('resources')).toBe('VCPU:1,MEMORY_MB:512');
    expect(url.searchParams.get('in_tree')).toBe(RP);
    expect(url.searchParams.get('limit')).toBe('3');
  });

  it('refuses in_tree below microversion 1.31 instead of sending a request Placement would misread', async () => {
    const { fake, client } = setup('1.28');
    await expect(client.getAllocationCandidates({ resources: { VCPU: 1 }, inTree: RP })).rejects.toThrow(/1\.31/);
    expect(fake.requests).toHaveLength(0);
  });

  it('formats resources and refuses an empty request', () => {
    expect(formatResources({ VCPU: 2, DISK_GB: 10 })).toBe('VCPU:2,DISK_GB:10');
    expect(() => formatResources({ VCPU: 0 })).toThrow(/at least one/);
  });
});

describe('PlacementClient generation handling', () => {
  it('setInventories re-reads the provider generation after a conflict', async () => {
    const { fake, client } = setup();
    fake.addProvider(RP, 'h1', { VCPU: 2 });
    let bumped = false;
    fake.onRequest = (req) => {
      // Another writer changes the provider right after our first read.
      if (req.method === 'PUT' && !bumped) {
        bumped = true;
        fake.providers.get(RP)!.generation += 1;
      }
    };
    const inv = await client.setInventories(RP, { VCPU: { total: 8 } }, noSleep);
    expect(inv.inventories.VCPU!.total).toBe(8);
    const puts = fake.writes().map((r) => (r.body as { resource_provider_generation: number }).resource_provider_generation);
    expect(puts).toEqual([1, 2]); // the second PUT carries the generation read again, not a guess
  });

  it('setInventories gives up with a clear error after the configured attempts', async () => {
    const { fake, client } = setup();
    fake.addProvider(RP, 'h1', { VCPU: 2 });
    fake.onRequest = (req) => {
      if (req.method === 'PUT') fake.providers.get(RP)!.generation += 1;
    };
    const err = await client.setInventories(RP, { VCPU: { total: 8 } }, { ...noSleep, attempts: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlacementStateError);
    expect((err as PlacementStateError).code).toBe('ferry.placement.conflict_retries_exhausted');
    expect((err as Error).message).toMatch(/3 attempts/);
    expect((err as Error).cause).toBeInstanceOf(PlacementError);
    expect(fake.writes()).toHaveLength(3);
  });

  it('does not retry errors other than concurrent_update', async () => {
    const { fake, client } = setup();
    fake.addProvider(RP, 'h1', { VCPU: 2 });
    fake.onRequest = (req) => (req.method === 'PUT' ? error(400, 'Bad Request', 'JSON does not validate') : undefined);
    await expect(client.setInventories(RP, { VCPU: { total: 8 } }, noSleep)).rejects.toMatchObject({ status: 400 });
    expect(fake.writes()).toHaveLength(1);
  });

  it('ensureResourceProvider is idempotent by uuid and refuses a different name', async () => {
    const { fake, client } = setup();
    const a = await client.ensureResourceProvider({ uuid: RP, name: 'h1' });
    const b = await client.ensureResourceProvider({ uuid: RP, name: 'h1' });
    expect(a.uuid).toBe(RP);
    expect(b.uuid).toBe(RP);
    expect(fake.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    await expect(client.ensureResourceProvider({ uuid: RP, name: 'other' })).rejects.toMatchObject({
      code: 'ferry.placement.provider_name_mismatch',
    });
  });

  it('ensureResourceProvider surfaces a name used by another provider', async () => {
    const { fake, client } = setup();
    fake.addProvider('33333333-3333-4333-8333-333333333333', 'h1');
    await expect(client.ensureResourceProvider({ uuid: RP, name: 'h1' })).rejects.toMatchObject({
      status: 409,
      code: 'placement.duplicate_name',
    });
  });
});
