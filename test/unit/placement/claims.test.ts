/**
 * The claim activities (activities/claims.ts) against the fake Placement: what the destination
 * claim asks for (the whole source allocation, read from Placement), and that no failure leaves
 * the allocation half-moved, lost, or overwritten blindly.
 */
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { placementActivities } from '../../../activities/claims';
import type { ActivityDeps } from '../../../activities/deps';
import { Inventory } from '../../../activities/hosts';
import { PlacementClient } from '../../../activities/placement';
import type { VmFacts } from '../../../model/activity-contract';
import { error, FakePlacement, type RecordedRequest } from './fake-placement';

const SRC = '11111111-1111-4111-8111-111111111111';
const DST = '44444444-4444-4444-8444-444444444444';
const OTHER = '55555555-5555-4555-8555-555555555555';
const VM = '22222222-2222-4222-8222-222222222222';
const MIG = '33333333-3333-4333-8333-333333333333';

/** The VM's allocation as Placement holds it: more than VCPU and MEMORY_MB. */
const HELD = { VCPU: 2, MEMORY_MB: 1024, DISK_GB: 10, CUSTOM_PMEM_NAMESPACE_4GB: 1 };
/** The domain's own figures, deliberately different: the claim must not use them. */
const vm: VmFacts = { name: 'web-7', uuid: VM, vcpus: 4, memoryMiB: 4096 };
const roomy = { VCPU: 16, MEMORY_MB: 16384, DISK_GB: 100, CUSTOM_PMEM_NAMESPACE_4GB: 2 };

function setup(destination: Record<string, number> = roomy) {
  const fake = new FakePlacement();
  fake.addProvider(SRC, 'host-a', roomy);
  fake.addProvider(DST, 'host-b', destination);
  fake.setConsumer(VM, { [SRC]: { ...HELD } }, 1);
  const placement = new PlacementClient({ baseUrl: 'http://placement.test', fetch: fake.fetch });
  const inventory = new Inventory([
    { name: 'host-a', uri: 'test:///a', peerUri: 'test:///a', rp: SRC },
    { name: 'host-b', uri: 'test:///b', peerUri: 'test:///b', rp: DST },
    { name: 'host-c', uri: 'test:///c', peerUri: 'test:///c', rp: OTHER },
  ]);
  const acts = placementActivities({ inventory, placement } as unknown as ActivityDeps);
  const claimInput = { migrationId: MIG, vm, source: 'host-a', destination: 'host-b' };
  return { fake, acts, claimInput };
}

/** Who holds what, generations left out: what "exactly as before" compares. */
function holdings(fake: FakePlacement): Record<string, { allocations: unknown; consumerType: string }> {
  return Object.fromEntries([...fake.consumers].map(([id, c]) => [id, { allocations: c.allocations, consumerType: c.consumerType }]));
}

async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

function resourcesQueried(fake: FakePlacement): Record<string, number>[] {
  return fake.requests
    .filter((r) => r.path.startsWith('/allocation_candidates'))
    .map((r) => Object.fromEntries((new URL('http://x' + r.path).searchParams.get('resources') ?? '').split(',').map((p) => {
      const [rc, n] = p.split(':');
      return [rc!, Number(n)];
    })));
}

describe('the claim copies the whole source allocation, read from Placement', () => {
  it('claims on the destination every resource class the VM holds on the source (custom classes included)', async () => {
    const { fake, acts, claimInput } = setup();
    const r = await acts.claim(claimInput);
    expect(r.outcome).toBe('claimed');
    expect(fake.consumers.get(VM)).toMatchObject({ allocations: { [DST]: HELD }, consumerType: 'INSTANCE' });
    expect(fake.consumers.get(MIG)).toMatchObject({ allocations: { [SRC]: HELD }, consumerType: 'MIGRATION' });
    // Both hosts charged with exactly the VM's allocation: nothing disappeared, nothing invented.
    expect(fake.usages(SRC)).toEqual(HELD);
    expect(fake.usages(DST)).toEqual(HELD);
    expect(r.detail).toContain('CUSTOM_PMEM_NAMESPACE_4GB:1');
  });

  it('a checked destination is asked for every class: no PMEM namespace there means refused', async () => {
    const { fake, acts } = setup({ VCPU: 16, MEMORY_MB: 16384, DISK_GB: 100 });
    const err = await failure(acts.chooseDestinationHost({ vm, source: 'host-a', requested: { host: 'host-b', mode: 'check' } }));
    expect(err.type).toBe('Refused');
    expect(err.message).toMatch(/host-b has no room for .*CUSTOM_PMEM_NAMESPACE_4GB:1/);
    expect(resourcesQueried(fake)).toEqual([HELD]);
  });

  it('Placement is asked for the same resources when it picks the destination', async () => {
    const { fake, acts } = setup({ VCPU: 64, MEMORY_MB: 65536, DISK_GB: 100 }); // most free memory, no PMEM
    fake.addProvider(OTHER, 'host-c', roomy);
    const r = await acts.chooseDestinationHost({ vm, source: 'host-a' });
    expect(r).toMatchObject({ destination: 'host-c', how: 'placement' });
    expect(resourcesQueried(fake)).toEqual([HELD]);
  });

  it('a VM that holds nothing in Placement is refused before anything is chosen, with what to do', async () => {
    const { fake, acts } = setup();
    fake.consumers.delete(VM);
    const err = await failure(acts.chooseDestinationHost({ vm, source: 'host-a' }));
    expect(err.type).toBe('Refused');
    expect(err.message).toContain(`GET /allocations/${VM}`);
  });
});

describe('the claim leaves Placement fully claimed or exactly as before', () => {
  it('a destination without room: refused, and every allocation is exactly as before', async () => {
    const { fake, acts, claimInput } = setup({ ...roomy, VCPU: 1 });
    const before = holdings(fake);
    const err = await failure(acts.claim(claimInput));
    expect(err.type).toBe('Refused');
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toMatch(/host-b has no room for/);
    expect(holdings(fake)).toEqual(before);
  });

  it('room taken between the candidates query and the write: refused, nothing written', async () => {
    const { fake, acts, claimInput } = setup({ ...roomy, VCPU: 3 });
    fake.onRequest = (req) => {
      if (req.method === 'POST' && !fake.consumers.has('other-vm')) fake.setConsumer('other-vm', { [DST]: { VCPU: 2 } });
    };
    const before = holdings(fake);
    const err = await failure(acts.claim(claimInput));
    expect(err.type).toBe('Refused');
    expect(err.message).toMatch(/exceed the capacity/);
    fake.consumers.delete('other-vm');
    expect(holdings(fake)).toEqual(before);
  });

  it('an earlier attempt moved the allocation and died; now the destination is full: moved back, then refused', async () => {
    const { fake, acts, claimInput } = setup({ ...roomy, VCPU: 1 });
    const before = holdings(fake);
    fake.setConsumer(MIG, { [SRC]: { ...HELD } }, 1, 'MIGRATION');
    fake.consumers.delete(VM);
    const err = await failure(acts.claim(claimInput));
    expect(err.type).toBe('Refused');
    expect(holdings(fake)).toEqual(before);
  });

  it('an earlier attempt moved the allocation and died: the retry claims the destination', async () => {
    const { fake, acts, claimInput } = setup();
    fake.setConsumer(MIG, { [SRC]: { ...HELD } }, 1, 'MIGRATION');
    fake.consumers.delete(VM);
    expect((await acts.claim(claimInput)).outcome).toBe('claimed');
    expect(fake.consumers.get(VM)!.allocations).toEqual({ [DST]: HELD });
    expect(fake.consumers.get(MIG)!.allocations).toEqual({ [SRC]: HELD });
  });

  it('is idempotent by migration id: a second call finds it claimed and writes nothing', async () => {
    const { fake, acts, claimInput } = setup();
    await acts.claim(claimInput);
    const writes = fake.writes().length;
    expect((await acts.claim(claimInput)).outcome).toBe('already-claimed');
    expect(fake.writes()).toHaveLength(writes);
  });

  it("the claim's answer is lost: a retryable PlacementUnavailable, and the retry finds it claimed", async () => {
    const { fake, acts, claimInput } = setup();
    let lost = 0;
    fake.onRequest = (req: RecordedRequest) => {
      if (req.method !== 'GET' && lost++ === 0) {
        fake.apply(req); // Placement did the write ...
        throw new TypeError('fetch failed (socket hang up)'); // ... and the answer never came
      }
    };
    const err = await failure(acts.claim(claimInput));
    expect(err.type).toBe('PlacementUnavailable');
    expect(err.nonRetryable).toBe(false);
    expect(fake.consumers.get(VM)!.allocations).toEqual({ [DST]: HELD });
    expect(fake.consumers.get(MIG)!.allocations).toEqual({ [SRC]: HELD });
    expect((await acts.claim(claimInput)).outcome).toBe('already-claimed');
  });

  it('Placement down: a retryable PlacementUnavailable whose message says to wait for Placement', async () => {
    const { fake, acts, claimInput } = setup();
    const before = holdings(fake);
    fake.goDown();
    const err = await failure(acts.claim(claimInput));
    expect(err.type).toBe('PlacementUnavailable');
    expect(err.nonRetryable).toBe(false);
    expect(err.message).toMatch(/unreachable/);
    expect(holdings(fake)).toEqual(before);
  });
});

describe('revertClaim is safe in every state', () => {
  const revert = { migrationId: MIG, vmUuid: VM };

  it('nothing moved yet: changes nothing', async () => {
    const { fake, acts } = setup();
    const before = holdings(fake);
    expect(await acts.revertClaim(revert)).toBe('nothing-to-revert');
    expect(holdings(fake)).toEqual(before);
    expect(fake.writes()).toHaveLength(0);
  });

  it('moved but not claimed: the source allocation goes back to the VM', async () => {
    const { fake, acts } = setup();
    const before = holdings(fake);
    fake.setConsumer(MIG, { [SRC]: { ...HELD } }, 1, 'MIGRATION');
    fake.consumers.delete(VM);
    expect(await acts.revertClaim(revert)).toBe('reverted');
    expect(holdings(fake)).toEqual(before);
  });

  it('claimed: the destination claim is dropped and the source allocation goes back, in one write', async () => {
    const { fake, acts, claimInput } = setup();
    const before = holdings(fake);
    await acts.claim(claimInput);
    const writes = fake.writes().length;
    expect(await acts.revertClaim(revert)).toBe('reverted');
    expect(holdings(fake)).toEqual(before);
    expect(fake.usages(DST)).toEqual({});
    expect(fake.writes()).toHaveLength(writes + 1);
  });

  it('already reverted: changes nothing', async () => {
    const { fake, acts, claimInput } = setup();
    await acts.claim(claimInput);
    await acts.revertClaim(revert);
    const after = holdings(fake);
    const writes = fake.writes().length;
    expect(await acts.revertClaim(revert)).toBe('nothing-to-revert');
    expect(holdings(fake)).toEqual(after);
    expect(fake.writes()).toHaveLength(writes);
  });

  it('after a completed migration (migration consumer dropped): leaves the VM on the destination', async () => {
    const { fake, acts, claimInput } = setup();
    await acts.claim(claimInput);
    await acts.dropMigrationClaim({ migrationId: MIG, vmUuid: VM });
    expect(await acts.revertClaim(revert)).toBe('nothing-to-revert');
    expect(fake.consumers.get(VM)!.allocations).toEqual({ [DST]: HELD });
  });

  it('Placement down: a retryable PlacementUnavailable, and the revert succeeds once it is back', async () => {
    const { fake, acts, claimInput } = setup();
    const before = holdings(fake);
    await acts.claim(claimInput);
    fake.goDown();
    const err = await failure(acts.revertClaim(revert));
    expect(err.type).toBe('PlacementUnavailable');
    expect(err.nonRetryable).toBe(false);
    fake.onRequest = undefined;
    expect(await acts.revertClaim(revert)).toBe('reverted');
    expect(holdings(fake)).toEqual(before);
  });

  it('Placement answering 503: also PlacementUnavailable', async () => {
    const { fake, acts } = setup();
    fake.onRequest = () => error(503, 'Service Unavailable', 'upstream connect error');
    const err = await failure(acts.revertClaim(revert));
    expect(err.type).toBe('PlacementUnavailable');
    expect(err.nonRetryable).toBe(false);
  });

  it('a conflict that outlasts every re-read: a retryable PlacementConflict, nothing overwritten', async () => {
    const { fake, acts, claimInput } = setup();
    await acts.claim(claimInput);
    const during = holdings(fake);
    fake.onRequest = (req) => {
      if (req.method === 'POST') fake.touchConsumer(VM);
    };
    const err = await failure(acts.revertClaim(revert));
    expect(err.type).toBe('PlacementConflict');
    expect(err.nonRetryable).toBe(false);
    expect(holdings(fake)).toEqual(during);
  });
});

describe('dropMigrationClaim', () => {
  it('writes with the generation it read, and re-reads after a conflict', async () => {
    const { fake, acts, claimInput } = setup();
    await acts.claim(claimInput);
    const gen = fake.consumers.get(MIG)!.generation;
    let touched = false;
    fake.onRequest = (req) => {
      if (req.method !== 'GET' && !touched) {
        touched = true;
        fake.touchConsumer(MIG);
      }
    };
    expect(await acts.dropMigrationClaim({ migrationId: MIG, vmUuid: VM })).toBe(true);
    const drops = fake.writes().slice(-2).map((r) => [r.method, (r.body as Record<string, { consumer_generation: number }> | undefined)?.[MIG]?.consumer_generation]);
    expect(drops).toEqual([['POST', gen], ['POST', gen + 1]]);
    expect(fake.consumers.has(MIG)).toBe(false);
    expect(fake.consumers.get(VM)!.allocations).toEqual({ [DST]: HELD });
    expect(fake.usages(SRC)).toEqual({});
  });

  it('is idempotent: a second drop finds nothing and says so', async () => {
    const { acts, claimInput } = setup();
    await acts.claim(claimInput);
    expect(await acts.dropMigrationClaim({ migrationId: MIG, vmUuid: VM })).toBe(true);
    expect(await acts.dropMigrationClaim({ migrationId: MIG, vmUuid: VM })).toBe(false);
  });

  it("refuses to drop the source allocation while the VM holds nothing (it would vanish from Placement)", async () => {
    const { fake, acts } = setup();
    fake.setConsumer(MIG, { [SRC]: { ...HELD } }, 1, 'MIGRATION');
    fake.consumers.delete(VM);
    const before = holdings(fake);
    const err = await failure(acts.dropMigrationClaim({ migrationId: MIG, vmUuid: VM }));
    expect(err.type).toBe('PlacementInconsistent');
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toContain(VM);
    expect(holdings(fake)).toEqual(before);
  });

  it('Placement down: a retryable PlacementUnavailable', async () => {
    const { fake, acts, claimInput } = setup();
    await acts.claim(claimInput);
    fake.goDown();
    const err = await failure(acts.dropMigrationClaim({ migrationId: MIG, vmUuid: VM }));
    expect(err.type).toBe('PlacementUnavailable');
    expect(err.nonRetryable).toBe(false);
  });
});
