/**
 * The drain's Placement acts against the fake Placement: the maintenance mark (set, cleared,
 * idempotent, other traits kept), the destination choice refusing a host in maintenance, and the
 * room a drain reserves (held against other claims, idempotent, released).
 */
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { placementActivities } from '../../../activities/claims';
import type { ActivityDeps } from '../../../activities/deps';
import { drainPlacementActivities } from '../../../activities/drain-placement';
import { Inventory } from '../../../activities/hosts';
import { PlacementClient } from '../../../activities/placement';
import { MAINTENANCE_TRAIT } from '../../../model/drain';
import type { VmFacts } from '../../../model/activity-contract';
import { FakePlacement } from './fake-placement';

const SRC = '11111111-1111-4111-8111-111111111111';
const DST = '44444444-4444-4444-8444-444444444444';
const OTHER = '55555555-5555-4555-8555-555555555555';
const VM = '22222222-2222-4222-8222-222222222222';
const RES = '66666666-6666-4666-8666-666666666666';
const HELD = { VCPU: 2, MEMORY_MB: 1024 };
const vm: VmFacts = { name: 'web-7', uuid: VM, vcpus: 2, memoryMiB: 1024 };

function setup(destination: Record<string, number> = { VCPU: 16, MEMORY_MB: 16384 }) {
  const fake = new FakePlacement();
  fake.addProvider(SRC, 'host-a', { VCPU: 16, MEMORY_MB: 16384 });
  fake.addProvider(DST, 'host-b', destination);
  fake.addProvider(OTHER, 'host-c', { VCPU: 16, MEMORY_MB: 8192 });
  fake.setConsumer(VM, { [SRC]: { ...HELD } }, 1);
  const placement = new PlacementClient({ baseUrl: 'http://placement.test', fetch: fake.fetch });
  const inventory = new Inventory([
    { name: 'host-a', uri: 'test:///a', peerUri: 'test:///a', rp: SRC },
    { name: 'host-b', uri: 'test:///b', peerUri: 'test:///b', rp: DST },
    { name: 'host-c', uri: 'test:///c', peerUri: 'test:///c', rp: OTHER },
  ]);
  const deps = { inventory, placement } as unknown as ActivityDeps;
  return { fake, drain: drainPlacementActivities(deps), claims: placementActivities(deps) };
}

async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

describe('a host in maintenance', () => {
  it('is marked with ferry\'s trait, keeping other traits; idempotent both ways', async () => {
    const { fake, drain } = setup();
    fake.providers.get(DST)!.traits = ['HW_CPU_X86_AVX2'];
    fake.providers.get(DST)!.generation = 3;
    expect(await drain.setHostMaintenance({ host: 'host-b', on: true })).toEqual({ host: 'host-b', inMaintenance: true, changed: true });
    expect(fake.providers.get(DST)!.traits).toEqual(['HW_CPU_X86_AVX2', MAINTENANCE_TRAIT]);
    expect(await drain.setHostMaintenance({ host: 'host-b', on: true })).toMatchObject({ changed: false });
    expect(await drain.setHostMaintenance({ host: 'host-b', on: false })).toEqual({ host: 'host-b', inMaintenance: false, changed: true });
    expect(fake.providers.get(DST)!.traits).toEqual(['HW_CPU_X86_AVX2']);
    expect(await drain.setHostMaintenance({ host: 'host-b', on: false })).toMatchObject({ changed: false });
  });

  it('an unknown host is refused by name', async () => {
    const { drain } = setup();
    const err = await failure(drain.setHostMaintenance({ host: 'host-z', on: true }));
    expect(err.type).toBe('Refused');
    expect(err.message).toMatch(/unknown host 'host-z': ferry knows host-a, host-b, host-c/);
  });

  it('refuses a single migration into it, checked or forced, with the way out', async () => {
    const { drain, claims } = setup();
    await drain.setHostMaintenance({ host: 'host-b', on: true });
    for (const mode of ['check', 'force'] as const) {
      const err = await failure(claims.chooseDestinationHost({ vm, source: 'host-a', requested: { host: 'host-b', mode } }));
      expect(err.type).toBe('Refused');
      expect(err.message).toMatch(/destination host-b is in maintenance .*ferry host release host-b/);
    }
  });

  it('is never chosen by Placement, though it has the most room', async () => {
    const { drain, claims } = setup();
    expect((await claims.chooseDestinationHost({ vm, source: 'host-a' })).destination).toBe('host-b');
    await drain.setHostMaintenance({ host: 'host-b', on: true });
    expect((await claims.chooseDestinationHost({ vm, source: 'host-a' })).destination).toBe('host-c');
    await drain.setHostMaintenance({ host: 'host-c', on: true });
    const err = await failure(claims.chooseDestinationHost({ vm, source: 'host-a' }));
    expect(err.message).toMatch(/in maintenance, so left out: host-b, host-c/);
  });
});

describe('room reserved for a planned move', () => {
  it('is held in Placement against other claims, idempotent by id, and released', async () => {
    const { fake, drain } = setup({ VCPU: 16, MEMORY_MB: 1536 });
    const r = await drain.reserveRoom({ reservationId: RES, vmUuid: VM, destination: 'host-b', resources: HELD });
    expect(r.outcome).toBe('reserved');
    expect(fake.consumers.get(RES)).toMatchObject({ allocations: { [DST]: HELD }, projectId: 'proj', userId: 'user', consumerType: 'MIGRATION' });
    expect(fake.usages(DST)).toEqual(HELD);
    // The same reservation again: nothing is counted twice.
    expect((await drain.reserveRoom({ reservationId: RES, vmUuid: VM, destination: 'host-b', resources: HELD })).outcome).toBe('already-reserved');
    expect(fake.usages(DST)).toEqual(HELD);
    // Another reservation finds the room taken.
    const other = await failure(drain.reserveRoom({ reservationId: '77777777-7777-4777-8777-777777777777', vmUuid: VM, destination: 'host-b', resources: HELD }));
    expect(other.type).toBe('Refused');
    expect(other.message).toMatch(/no room left on host-b for VCPU:2,MEMORY_MB:1024/);
    expect(await drain.releaseRoom({ reservationId: RES })).toBe(true);
    expect(fake.usages(DST)).toEqual({});
    expect(await drain.releaseRoom({ reservationId: RES })).toBe(false);
  });

  it('a Placement outage is a retryable PlacementUnavailable, as the claim\'s', async () => {
    const { fake, drain } = setup();
    fake.goDown();
    const err = await failure(drain.releaseRoom({ reservationId: RES }));
    expect(err.type).toBe('PlacementUnavailable');
    expect(err.nonRetryable).toBe(false);
  });
});

describe('the migration\'s claim takes the drain\'s reservation over', () => {
  const MIG = '33333333-3333-4333-8333-333333333333';
  const claimInput = { migrationId: MIG, vm, source: 'host-a', destination: 'host-b' };

  it('in one write: the room is counted once, and the reservation is empty after', async () => {
    // host-b has room for exactly one such VM: the reservation fills it.
    const { fake, drain, claims } = setup({ VCPU: 2, MEMORY_MB: 1024 });
    await drain.reserveRoom({ reservationId: RES, vmUuid: VM, destination: 'host-b', resources: HELD });
    // Without the reservation's id, the claim finds no room: the reservation really holds it.
    const refused = await failure(claims.claim(claimInput));
    expect(refused.message).toMatch(/host-b has no room/);
    expect(fake.consumers.get(RES)).toBeDefined();

    const writesBefore = fake.writes().length;
    const r = await claims.claim({ ...claimInput, reservationId: RES });
    expect(r.outcome).toBe('claimed');
    expect(fake.writes().length - writesBefore).toBe(1); // one atomic POST /allocations
    expect(fake.consumers.get(VM)!.allocations).toEqual({ [DST]: HELD });
    expect(fake.consumers.get(MIG)!.allocations).toEqual({ [SRC]: HELD });
    expect(fake.consumers.has(RES)).toBe(false);
    expect(fake.usages(DST)).toEqual(HELD);
    // Idempotent: a retry finds it done; releasing the (empty) reservation changes nothing.
    expect((await claims.claim({ ...claimInput, reservationId: RES })).outcome).toBe('already-claimed');
    expect(await drain.releaseRoom({ reservationId: RES })).toBe(false);
    expect(fake.usages(DST)).toEqual(HELD);
  });

  it('a reservation of other resources is not taken: the claim asks Placement as usual', async () => {
    const { fake, drain, claims } = setup();
    await drain.reserveRoom({ reservationId: RES, vmUuid: VM, destination: 'host-b', resources: { VCPU: 1, MEMORY_MB: 512 } });
    expect((await claims.claim({ ...claimInput, reservationId: RES })).outcome).toBe('claimed');
    expect(fake.consumers.get(RES)!.allocations).toEqual({ [DST]: { VCPU: 1, MEMORY_MB: 512 } });
    expect(fake.usages(DST)).toEqual({ VCPU: 3, MEMORY_MB: 1536 });
  });
});
