/**
 * Room held for a drain's planned move: a consumer of its own (the reservation id) that holds the
 * VM's resources on the destination, so that other work cannot take that room while the drain
 * waits for its turn. Released (emptied) as the move starts or ends; both steps idempotent by id.
 */
import type { AllocationMap, PlacementClient, Resources } from './client';
import { hasAllocations, isCapacityRefusal, positive, sameResources, totalResources } from './migration';
import { retryOnConcurrentUpdate, type RetryOptions } from './retry';

export type ReserveResult =
  | { outcome: 'reserved' | 'already-reserved'; allocations: AllocationMap }
  | { outcome: 'no-room'; reason: string };

export async function reserveRoom(
  client: PlacementClient,
  r: { reservationId: string; destinationRpUuid: string; resources: Resources; projectId: string; userId: string },
  retry: RetryOptions = {},
): Promise<ReserveResult> {
  const wanted = positive(r.resources);
  return retryOnConcurrentUpdate(`reserve ${JSON.stringify(wanted)} on provider ${r.destinationRpUuid} (reservation ${r.reservationId})`, retry, async () => {
    const held = await client.getAllocations(r.reservationId);
    if (hasAllocations(held)) {
      if (sameResources(totalResources(held.allocations), wanted)) return { outcome: 'already-reserved', allocations: held.allocations };
    }
    const c = await client.getAllocationCandidates({ resources: wanted, inTree: r.destinationRpUuid, limit: 1 });
    const candidate = c.allocationRequests[0]?.allocations;
    if (!candidate) return { outcome: 'no-room', reason: 'no allocation candidate in its tree' };
    try {
      await client.putAllocations(r.reservationId, {
        allocations: candidate, projectId: r.projectId, userId: r.userId, consumerGeneration: held.consumerGeneration, consumerType: 'MIGRATION',
      });
    } catch (err) {
      if (isCapacityRefusal(err)) return { outcome: 'no-room', reason: err.detail };
      throw err;
    }
    return { outcome: 'reserved', allocations: candidate };
  });
}

/** Empties the reservation; false when it held nothing (released before, or never made). */
export async function releaseRoom(client: PlacementClient, reservationId: string): Promise<boolean> {
  return client.deleteAllocations(reservationId);
}
