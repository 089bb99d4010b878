/**
 * Finish with Placement down: the libvirt facts are final once both hosts agree; dropping the
 * migration consumer is bookkeeping of its own, retried until Placement is back, without judging
 * the migration again.
 */
import { ApplicationFailure } from '@temporalio/common';
import { afterEach, describe, expect, it } from 'vitest';
import { placementActivities } from '../../../activities/claims';
import { finishActivities } from '../../../activities/finish';
import { DomainState, Procedure, RunningReason } from '../../../activities/libvirt';
import { PlacementClient } from '../../../activities/placement';
import { startPair, VM } from '../watch/fake-hosts';
import { FakePlacement } from './fake-placement';

const SRC = '00000000-0000-4000-8000-0000000000a1';
const DST = '00000000-0000-4000-8000-0000000000b1';
const MIG = '33333333-3333-4333-8333-333333333333';
const HELD = { VCPU: 1, MEMORY_MB: 128, CUSTOM_FERRY_TEST_X: 1 };

let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

/** Switched over: the source has no domain any more, the destination runs it (Migrated). */
async function switchedOver() {
  const pair = await startPair();
  stop = pair.stop;
  pair.source.domain = null;
  pair.source.job = { type: 0, params: [] };
  pair.destination.domain = { state: DomainState.Running, reason: RunningReason.Migrated };
  pair.destination.incoming = false;
  const fake = new FakePlacement();
  fake.setConsumer(VM.uuid, { [DST]: { ...HELD } }, 2);
  fake.setConsumer(MIG, { [SRC]: { ...HELD } }, 1, 'MIGRATION');
  const deps = { ...pair.deps, placement: new PlacementClient({ baseUrl: 'http://placement.test', fetch: fake.fetch }) };
  const input = { migrationId: MIG, vm: { name: VM.name, uuid: VM.uuid, memoryMiB: 128, vcpus: 1 }, source: 'src', destination: 'dst' };
  return { pair, fake, finish: finishActivities(deps), claims: placementActivities(deps), input };
}

describe('finish with Placement down', () => {
  it('finishOnHosts reports the final facts without Placement; the drop waits for Placement, then succeeds', async () => {
    const { pair, fake, finish, claims, input } = await switchedOver();
    fake.goDown();
    const facts = await finish.finishOnHosts(input);
    expect(facts.hosts).toEqual({ source: expect.stringMatching(/absent|none/), destination: expect.stringMatching(/running/) });
    expect(fake.requests).toEqual([]);

    const lookups = pair.destination.count(Procedure.DomainLookupByUuid);
    const err = await claims.dropMigrationClaim({ migrationId: MIG, vmUuid: VM.uuid }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('PlacementUnavailable');
    expect((err as ApplicationFailure).nonRetryable).toBe(false);

    fake.onRequest = undefined; // Placement is back
    expect(await claims.dropMigrationClaim({ migrationId: MIG, vmUuid: VM.uuid })).toBe(true);
    expect(fake.consumers.has(MIG)).toBe(false);
    expect(fake.consumers.get(VM.uuid)!.allocations).toEqual({ [DST]: HELD });
    // The bookkeeping never looked at the hosts again.
    expect(pair.destination.count(Procedure.DomainLookupByUuid)).toBe(lookups);
  });

  it('finishOnHosts never talks to Placement', async () => {
    const { fake, finish, input } = await switchedOver();
    await finish.finishOnHosts(input);
    expect(fake.requests).toEqual([]);
  });

  it('the combined finishMigration fails as PlacementUnavailable (retryable), not as an anonymous error', async () => {
    const { fake, finish, input } = await switchedOver();
    fake.goDown();
    const err = await finish.finishMigration(input).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('PlacementUnavailable');
    expect((err as ApplicationFailure).nonRetryable).toBe(false);
  });
});
