/** Lab seeding: a host's resource provider with its inventory, and a VM's allocation on it. */
import type { AllocationMap, PlacementClient } from './client';
import { PlacementStateError } from './errors';
import type { Inventories, ResourceProvider } from './schemas';
import { positive, sameAllocations } from './migration';
import { retryOnConcurrentUpdate, type RetryOptions } from './retry';

export interface HostProviderSpec {
  name: string;
  uuid: string;
  vcpus: number;
  memoryMb: number;
  diskGb: number;
  /** Custom resource classes (CUSTOM_*) and their totals, e.g. the host's vPMEM namespaces per size. */
  custom?: Record<string, number>;
}

/** Idempotent: creates the provider if needed and sets VCPU/MEMORY_MB/DISK_GB (and custom) totals when they differ. */
export async function ensureHostProvider(
  client: PlacementClient,
  spec: HostProviderSpec,
  retry: RetryOptions = {},
): Promise<{ provider: ResourceProvider; inventories: Inventories }> {
  await client.ensureResourceProvider({ uuid: spec.uuid, name: spec.name });
  for (const rc of Object.keys(spec.custom ?? {})) {
    if (!/^CUSTOM_[A-Z0-9_]+$/.test(rc)) throw new Error(`'${rc}' is no custom resource class (CUSTOM_ then A-Z, 0-9, _)`);
    await client.ensureResourceClass(rc);
  }
  const wanted = positive({ VCPU: spec.vcpus, MEMORY_MB: spec.memoryMb, DISK_GB: spec.diskGb, ...spec.custom });
  let inventories = await client.getInventories(spec.uuid);
  const current = Object.fromEntries(Object.entries(inventories.inventories).map(([rc, inv]) => [rc, inv.total]));
  if (!sameAllocations({ rp: current }, { rp: wanted })) {
    inventories = await client.setInventories(
      spec.uuid,
      Object.fromEntries(Object.entries(wanted).map(([rc, total]) => [rc, { total }])),
      retry,
    );
  }
  const provider = await client.getResourceProvider(spec.uuid);
  if (!provider) throw new PlacementStateError('ferry.placement.provider_vanished', `resource provider ${spec.uuid} disappeared while being seeded`);
  return { provider, inventories };
}

export interface VmAllocationSpec {
  vmUuid: string;
  rpUuid: string;
  vcpus: number;
  memoryMb: number;
  diskGb: number;
  /** Further classes the VM holds, e.g. CUSTOM_PMEM_NAMESPACE_64MB for its vPMEM namespaces. */
  custom?: Record<string, number>;
  projectId: string;
  userId: string;
}

/**
 * Idempotent: gives the VM's consumer exactly these resources on rpUuid. Refuses when the VM
 * already holds something else (e.g. it was migrated since): the lab must not hide that.
 */
export async function allocateVmOnProvider(
  client: PlacementClient,
  spec: VmAllocationSpec,
  retry: RetryOptions = {},
): Promise<{ outcome: 'allocated' | 'already-allocated'; allocations: AllocationMap }> {
  const wanted: AllocationMap = {
    [spec.rpUuid]: positive({ VCPU: spec.vcpus, MEMORY_MB: spec.memoryMb, DISK_GB: spec.diskGb, ...spec.custom }),
  };
  return retryOnConcurrentUpdate(`allocate VM ${spec.vmUuid} on provider ${spec.rpUuid}`, retry, async () => {
    const current = await client.getAllocations(spec.vmUuid);
    if (sameAllocations(current.allocations, wanted)) return { outcome: 'already-allocated' as const, allocations: current.allocations };
    if (Object.keys(current.allocations).length > 0) {
      throw new PlacementStateError(
        'ferry.placement.vm_allocated_elsewhere',
        `VM ${spec.vmUuid} already holds ${JSON.stringify(current.allocations)} in Placement, not ${JSON.stringify(wanted)}; ` +
          `delete its allocations first (DELETE /allocations/${spec.vmUuid}) if the lab should be reset`,
      );
    }
    // Someone writing in between gets us a 409: re-read and decide again.
    await client.putAllocations(spec.vmUuid, {
      allocations: wanted,
      projectId: spec.projectId,
      userId: spec.userId,
      consumerGeneration: current.consumerGeneration,
      consumerType: 'INSTANCE',
    });
    return { outcome: 'allocated' as const, allocations: wanted };
  });
}
