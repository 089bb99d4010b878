/**
 * The Placement side of a live migration, after Nova's migration-consumer pattern:
 *   1. claimForMigration: the VM's source allocation moves to a consumer named by the migration
 *      UUID and the VM's consumer claims the same resources on the destination, in ONE atomic
 *      POST /allocations: a refusal (no room) leaves Placement exactly as it was;
 *   2. success: dropMigrationAllocation; failure: revertMigrationAllocation moves it back.
 * (moveSourceAllocationToMigration + claimDestination are Nova's two separate steps; a claim
 * that finds them half done finishes the claim, or moves the allocation back when refused.)
 * Every write carries the consumer generations just read; a 409 placement.concurrent_update is
 * retried by re-reading both consumers and deciding again, never by overwriting blindly. Each step
 * is idempotent, so a Temporal retry after a lost answer finds the work done and says so.
 */
import type { AllocationMap, AllocationWrite, ConsumerAllocations, PlacementClient, Resources } from './client';
import { PlacementError, PlacementStateError } from './errors';
import { retryOnConcurrentUpdate, type RetryOptions } from './retry';

export interface MoveResult {
  outcome: 'moved' | 'already-moved';
  /** What the migration consumer holds now (the VM's source allocation). */
  migrationAllocations: AllocationMap;
}

export interface RevertResult {
  outcome: 'reverted' | 'nothing-to-revert';
  /** What the VM's consumer holds now. */
  vmAllocations: AllocationMap;
}

export interface ClaimResult {
  outcome: 'claimed' | 'already-claimed';
  vmAllocations: AllocationMap;
}

export type MigrationClaimResult =
  | {
      outcome: 'claimed' | 'already-claimed';
      /** Every resource class of the source allocation, summed over its providers. */
      resources: Resources;
      /** What the migration consumer holds (the VM's source allocation). */
      source: AllocationMap;
      /** What the VM's consumer holds on the destination. */
      destination: AllocationMap;
    }
  | {
      outcome: 'no-room';
      resources: Resources;
      /** Placement's words (or the empty candidate list) for why the destination cannot take it. */
      reason: string;
      /** An earlier attempt had moved the source allocation: it went back to the VM. */
      movedBack: boolean;
    };

export interface DropResult {
  outcome: 'dropped' | 'nothing-to-drop';
  /** What the migration consumer held (the source allocation now freed). */
  dropped: AllocationMap;
}

export function hasAllocations(c: ConsumerAllocations): boolean {
  return Object.keys(c.allocations).length > 0;
}

function owner(c: ConsumerAllocations, role: string): { projectId: string; userId: string } {
  if (c.projectId === undefined || c.userId === undefined) {
    throw new PlacementStateError(
      'ferry.placement.consumer_without_owner',
      `${role} consumer ${c.consumerUuid} has allocations but Placement reported no project_id/user_id for it (microversion too old?)`,
    );
  }
  return { projectId: c.projectId, userId: c.userId };
}

/** Step 1: the VM's source allocation becomes the migration consumer's. */
export async function moveSourceAllocationToMigration(
  client: PlacementClient,
  vmUuid: string,
  migrationUuid: string,
  retry: RetryOptions = {},
): Promise<MoveResult> {
  if (vmUuid === migrationUuid) throw new Error('the migration consumer UUID must differ from the VM UUID');
  return retryOnConcurrentUpdate(`move allocation of VM ${vmUuid} to migration ${migrationUuid}`, retry, async () => {
    const vm = await client.getAllocations(vmUuid);
    const migration = await client.getAllocations(migrationUuid);
    // Done before (maybe the VM has since claimed the destination): moving again would steal that claim.
    if (hasAllocations(migration)) return { outcome: 'already-moved', migrationAllocations: migration.allocations };
    if (!hasAllocations(vm)) {
      throw new PlacementStateError(
        'ferry.placement.no_source_allocation',
        `VM ${vmUuid} holds no allocation in Placement, so there is nothing to move to migration ${migrationUuid}; ` +
          'allocate it on its source host first (lab: allocateVmOnProvider)',
      );
    }
    const who = owner(vm, 'VM');
    await client.postAllocations({
      [vmUuid]: { allocations: {}, ...who, consumerGeneration: vm.consumerGeneration, consumerType: 'INSTANCE' },
      [migrationUuid]: {
        allocations: vm.allocations,
        ...who,
        consumerGeneration: migration.consumerGeneration,
        consumerType: 'MIGRATION',
      },
    });
    return { outcome: 'moved', migrationAllocations: vm.allocations };
  });
}

/**
 * Step 2: the VM's consumer claims `resources` on the destination provider. Refuses when the VM
 * still holds other allocations (the move did not happen) rather than replacing them.
 */
export async function claimDestination(
  client: PlacementClient,
  c: { vmUuid: string; destinationRpUuid: string; resources: Resources; projectId: string; userId: string },
  retry: RetryOptions = {},
): Promise<ClaimResult> {
  const wanted: AllocationMap = { [c.destinationRpUuid]: positive(c.resources) };
  return retryOnConcurrentUpdate(`claim provider ${c.destinationRpUuid} for VM ${c.vmUuid}`, retry, async () => {
    const vm = await client.getAllocations(c.vmUuid);
    if (sameAllocations(vm.allocations, wanted)) return { outcome: 'already-claimed', vmAllocations: vm.allocations };
    if (hasAllocations(vm)) {
      throw new PlacementStateError(
        'ferry.placement.vm_still_allocated',
        `VM ${c.vmUuid} still holds allocations ${JSON.stringify(vm.allocations)}; move them to the migration consumer before claiming the destination`,
      );
    }
    await client.putAllocations(c.vmUuid, {
      allocations: wanted,
      projectId: c.projectId,
      userId: c.userId,
      consumerGeneration: vm.consumerGeneration,
      consumerType: 'INSTANCE',
    });
    return { outcome: 'claimed', vmAllocations: wanted };
  });
}

/**
 * The whole claim, idempotent by migration UUID; Placement ends fully claimed or exactly as
 * before (a refusal is an answer, 'no-room', not an exception):
 * - nothing moved yet: one atomic POST gives the source allocation to the migration consumer and
 *   the same resources on the destination (an allocation candidate in its tree) to the VM;
 * - moved before, VM without allocation (an attempt that died half way, or the two-step claim):
 *   claims the destination alone, or moves the allocation back when there is no room;
 * - moved and claimed: 'already-claimed', nothing written.
 * The resources are those the source allocation holds in Placement, every class of them.
 */
export async function claimForMigration(
  client: PlacementClient,
  c: { vmUuid: string; migrationUuid: string; destinationRpUuid: string; reservationUuid?: string },
  retry: RetryOptions = {},
): Promise<MigrationClaimResult> {
  if (c.vmUuid === c.migrationUuid) throw new Error('the migration consumer UUID must differ from the VM UUID');
  const tree = new Set((await client.listResourceProviders({ inTree: c.destinationRpUuid })).map((p) => p.uuid));
  if (tree.size === 0) {
    throw new PlacementStateError(
      'ferry.placement.no_destination_provider',
      `the destination's resource provider ${c.destinationRpUuid} is not in Placement: register the host there (or fix its rp in the host inventory)`,
    );
  }
  return retryOnConcurrentUpdate(`claim provider ${c.destinationRpUuid} for VM ${c.vmUuid} (migration ${c.migrationUuid})`, retry, async () => {
    const vm = await client.getAllocations(c.vmUuid);
    const migration = await client.getAllocations(c.migrationUuid);
    const reservation = c.reservationUuid === undefined ? undefined : await client.getAllocations(c.reservationUuid);
    /**
     * The room a drain holds for this move (a reservation consumer on the destination), when it is
     * exactly what the VM needs: the claim takes it over in the same write, emptying the
     * reservation, so the room is never counted twice nor free for a moment in between.
     */
    const reserved = (resources: Resources): { allocations: AllocationMap; release: Record<string, AllocationWrite> } | undefined => {
      if (!reservation || !hasAllocations(reservation) || !withinTree(reservation.allocations, tree)) return undefined;
      if (!sameResources(totalResources(reservation.allocations), resources)) return undefined;
      return {
        allocations: reservation.allocations,
        release: {
          [reservation.consumerUuid]: {
            allocations: {}, ...owner(reservation, 'reservation'), consumerGeneration: reservation.consumerGeneration, consumerType: 'MIGRATION',
          },
        },
      };
    };

    if (hasAllocations(migration)) {
      const resources = totalResources(migration.allocations);
      if (hasAllocations(vm)) {
        if (withinTree(vm.allocations, tree) && sameResources(totalResources(vm.allocations), resources)) {
          return { outcome: 'already-claimed', resources, source: migration.allocations, destination: vm.allocations };
        }
        throw new PlacementStateError(
          'ferry.placement.vm_allocated_elsewhere',
          `migration ${c.migrationUuid} holds the VM's source allocation ${JSON.stringify(migration.allocations)}, but VM ${c.vmUuid} ` +
            `holds ${JSON.stringify(vm.allocations)}, which is not a claim on the destination: another writer changed the VM's ` +
            'allocations; look at both consumers before reverting (the revert gives the VM its source allocation back)',
        );
      }
      const refusedBecause = async (reason: string): Promise<MigrationClaimResult> => {
        await revertMigrationAllocation(client, c.migrationUuid, c.vmUuid, retry);
        return { outcome: 'no-room', resources, reason, movedBack: true };
      };
      const held = reserved(resources);
      const candidate = held?.allocations ?? await destinationCandidate(client, resources, c.destinationRpUuid);
      if (!candidate) return refusedBecause('no allocation candidate in its tree');
      try {
        const claimWrite: AllocationWrite = {
          allocations: candidate,
          ...owner(migration, 'migration'),
          consumerGeneration: vm.consumerGeneration,
          consumerType: 'INSTANCE',
        };
        if (held) await client.postAllocations({ [c.vmUuid]: claimWrite, ...held.release });
        else await client.putAllocations(c.vmUuid, claimWrite);
      } catch (err) {
        if (isCapacityRefusal(err)) return refusedBecause(err.detail);
        throw err;
      }
      return { outcome: 'claimed', resources, source: migration.allocations, destination: candidate };
    }

    if (!hasAllocations(vm)) {
      throw new PlacementStateError(
        'ferry.placement.no_source_allocation',
        `VM ${c.vmUuid} holds no allocation in Placement (GET /allocations/${c.vmUuid} is empty), so there is nothing to claim ` +
          'on a destination: allocate it on its source host first (lab: allocateVmOnProvider), or revert the migration ' +
          'consumer of an earlier migration that still holds it',
      );
    }
    const resources = totalResources(vm.allocations);
    const held = reserved(resources);
    const candidate = held?.allocations ?? await destinationCandidate(client, resources, c.destinationRpUuid);
    if (!candidate) return { outcome: 'no-room', resources, reason: 'no allocation candidate in its tree', movedBack: false };
    const who = owner(vm, 'VM');
    try {
      await client.postAllocations({
        ...held?.release,
        [c.vmUuid]: { allocations: candidate, ...who, consumerGeneration: vm.consumerGeneration, consumerType: 'INSTANCE' },
        [c.migrationUuid]: {
          allocations: vm.allocations,
          ...who,
          consumerGeneration: migration.consumerGeneration,
          consumerType: 'MIGRATION',
        },
      });
    } catch (err) {
      // All or nothing: refused, nothing was written.
      if (isCapacityRefusal(err)) return { outcome: 'no-room', resources, reason: err.detail, movedBack: false };
      throw err;
    }
    return { outcome: 'claimed', resources, source: vm.allocations, destination: candidate };
  });
}

/** One allocation candidate for `resources` in the destination's tree (it may span nested providers). */
async function destinationCandidate(client: PlacementClient, resources: Resources, rootRp: string): Promise<AllocationMap | undefined> {
  const c = await client.getAllocationCandidates({ resources, inTree: rootRp, limit: 1 });
  return c.allocationRequests[0]?.allocations;
}

/** Placement refused a write for capacity (or a class the provider has no inventory of): not a conflict to retry. */
export function isCapacityRefusal(err: unknown): err is PlacementError {
  return (
    err instanceof PlacementError &&
    err.status === 409 &&
    !err.isConcurrentUpdate &&
    /Unable to allocate inventory|exceed the capacity/i.test(`${err.detail} ${err.message}`)
  );
}

/**
 * Step 3 on success: the migration consumer's allocation (the source's) is released, with the
 * generation just read (a 409 re-reads). Idempotent: 'nothing-to-drop' when already released.
 * With `vmUuid`, refuses (ferry.placement.vm_unallocated) while the VM's consumer holds nothing:
 * dropping would erase the VM's last record in Placement.
 */
export async function dropMigrationAllocation(
  client: PlacementClient,
  migrationUuid: string,
  opts: { vmUuid?: string; retry?: RetryOptions } = {},
): Promise<DropResult> {
  return retryOnConcurrentUpdate(`drop allocation of migration ${migrationUuid}`, opts.retry ?? {}, async () => {
    const migration = await client.getAllocations(migrationUuid);
    if (!hasAllocations(migration)) return { outcome: 'nothing-to-drop', dropped: {} };
    if (opts.vmUuid !== undefined && !hasAllocations(await client.getAllocations(opts.vmUuid))) {
      throw new PlacementStateError(
        'ferry.placement.vm_unallocated',
        `VM ${opts.vmUuid} holds no allocation in Placement while migration ${migrationUuid} still holds ` +
          `${JSON.stringify(migration.allocations)}: dropping it would leave the VM with no allocation at all. ` +
          `Kept; claim the VM's resources on the host it runs on (PUT /allocations/${opts.vmUuid}), then drop the migration consumer`,
      );
    }
    await client.postAllocations({
      [migrationUuid]: {
        allocations: {},
        ...owner(migration, 'migration'),
        consumerGeneration: migration.consumerGeneration,
        consumerType: 'MIGRATION',
      },
    });
    return { outcome: 'dropped', dropped: migration.allocations };
  });
}

/**
 * Compensation of step 1 (and 2): the migration consumer's allocation moves back to the VM,
 * replacing a destination claim the VM may hold, in one atomic POST with both generations read.
 */
export async function revertMigrationAllocation(
  client: PlacementClient,
  migrationUuid: string,
  vmUuid: string,
  retry: RetryOptions = {},
): Promise<RevertResult> {
  if (vmUuid === migrationUuid) throw new Error('the migration consumer UUID must differ from the VM UUID');
  return retryOnConcurrentUpdate(`revert allocation of migration ${migrationUuid} to VM ${vmUuid}`, retry, async () => {
    const migration = await client.getAllocations(migrationUuid);
    const vm = await client.getAllocations(vmUuid);
    // Reverted before, or never moved: the VM's allocation is whatever it holds now.
    if (!hasAllocations(migration)) return { outcome: 'nothing-to-revert', vmAllocations: vm.allocations };
    const migOwner = owner(migration, 'migration');
    const vmOwner = hasAllocations(vm) ? owner(vm, 'VM') : migOwner;
    await client.postAllocations({
      [vmUuid]: {
        allocations: migration.allocations,
        ...vmOwner,
        consumerGeneration: vm.consumerGeneration,
        consumerType: 'INSTANCE',
      },
      [migrationUuid]: { allocations: {}, ...migOwner, consumerGeneration: migration.consumerGeneration, consumerType: 'MIGRATION' },
    });
    return { outcome: 'reverted', vmAllocations: migration.allocations };
  });
}

/** Every resource class of an allocation, summed over its providers (what a claim elsewhere must ask for). */
export function totalResources(allocations: AllocationMap): Resources {
  const total: Resources = {};
  for (const resources of Object.values(allocations)) {
    for (const [rc, n] of Object.entries(resources)) total[rc] = (total[rc] ?? 0) + n;
  }
  return positive(total);
}

export function sameResources(a: Resources, b: Resources): boolean {
  return sameAllocations({ x: a }, { x: b });
}

function withinTree(allocations: AllocationMap, tree: Set<string>): boolean {
  return Object.keys(allocations).every((rp) => tree.has(rp));
}

/** Placement rejects amounts < 1: a resource of 0 is simply not requested. */
export function positive(resources: Resources): Resources {
  return Object.fromEntries(Object.entries(resources).filter(([, n]) => n > 0));
}

export function sameAllocations(a: AllocationMap, b: AllocationMap): boolean {
  const rps = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const rp of rps) {
    const ra = a[rp] ?? {};
    const rb = b[rp] ?? {};
    const rcs = new Set([...Object.keys(ra), ...Object.keys(rb)]);
    for (const rc of rcs) if ((ra[rc] ?? 0) !== (rb[rc] ?? 0)) return false;
  }
  return true;
}
