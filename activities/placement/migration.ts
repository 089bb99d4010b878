/**
 * The Placement side of a live migration, as Nova does it (migration-consumer pattern):
 *   1. moveSourceAllocationToMigration: the VM's source allocation moves to a consumer named by the
 *      migration UUID, in one atomic POST /allocations;
 *   2. claimDestination: the VM's consumer claims the destination (PUT /allocations/{vm});
 *   3. success: dropMigrationAllocation; failure: revertMigrationAllocation moves it back.
 * Every write carries the consumer generations just read; a 409 placement.concurrent_update is
 * retried by re-reading both consumers and deciding again, never by overwriting blindly. Each step
 * is idempotent, so a Temporal retry after a lost answer finds the work done and says so.
 */
import type { AllocationMap, ConsumerAllocations, PlacementClient, Resources } from './client';
import { PlacementStateError } from './errors';
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

/** Step 3 on success: the source resources are free again. False when already dropped. */
export async function dropMigrationAllocation(client: PlacementClient, migrationUuid: string): Promise<boolean> {
  return client.deleteAllocations(migrationUuid);
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
