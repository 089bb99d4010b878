import { ApplicationFailure } from '@temporalio/activity';
import type {
  ChooseDestinationInput, ChooseDestinationResult, ClaimInput, ClaimResult, DropMigrationClaimInput, RevertClaimInput,
} from '../model/activity-contract';
import { chooseDestination } from '../model/destination-choice';
import { MAINTENANCE_TRAIT, maintenanceRefusal } from '../model/drain/maintenance';
import type { ActivityDeps } from './deps';
import {
  claimForMigration, dropMigrationAllocation, hasAllocations, inMaintenance, PlacementError, PlacementProtocolError, PlacementStateError,
  PlacementUnavailableError, revertMigrationAllocation, totalResources, type PlacementClient, type Resources,
} from './placement';
import { refuse } from './refusal';

/**
 * The VM's claim in Placement (Nova's migration-consumer pattern), and its compensation. What is
 * claimed on the destination is what the VM's allocation holds in Placement, every resource class
 * of it (VCPU, MEMORY_MB, DISK_GB, CUSTOM_PMEM_NAMESPACE_*, ...), never figures from the domain.
 */

const fmt = (r: Resources) => Object.entries(r).map(([k, n]) => `${k}:${n}`).join(',');

/**
 * Placement's errors as the workflow's retry policy reads them (ApplicationFailure types):
 * - PlacementUnavailable (retryable): unreachable, timed out, or a 5xx: wait for Placement;
 * - PlacementConflict (retryable): consumer generations kept changing through every re-read;
 * - PlacementInconsistent (non-retryable): the allocations are in a state no retry fixes;
 * - PlacementRejected (non-retryable): any other 4xx (a request Placement will never accept);
 * - PlacementProtocol (non-retryable): an answer this client cannot read.
 * Anything else (already an ApplicationFailure, a programming error) passes through unchanged.
 */
export function placementFailure(err: unknown, what: string): unknown {
  if (err instanceof ApplicationFailure) return err;
  const failure = (type: string, nonRetryable: boolean, message: string) =>
    ApplicationFailure.create({ type, nonRetryable, message: `${what}: ${message}`, cause: err as Error });
  if (err instanceof PlacementUnavailableError) {
    return failure('PlacementUnavailable', false, `${err.message}; waiting for Placement (retried until it answers)`);
  }
  if (err instanceof PlacementError) {
    if (err.status >= 500) return failure('PlacementUnavailable', false, `${err.message}; waiting for Placement (retried until it answers)`);
    if (err.isConcurrentUpdate) return failure('PlacementConflict', false, err.message);
    return failure('PlacementRejected', true, err.message);
  }
  if (err instanceof PlacementStateError) {
    if (err.code === 'ferry.placement.conflict_retries_exhausted') return failure('PlacementConflict', false, err.message);
    return failure('PlacementInconsistent', true, `${err.message} [${err.code}]`);
  }
  if (err instanceof PlacementProtocolError) return failure('PlacementProtocol', true, err.message);
  return err;
}

async function typed<T>(what: string, act: () => Promise<T>): Promise<T> {
  try {
    return await act();
  } catch (err) {
    throw placementFailure(err, what);
  }
}

/** What the VM holds in Placement now, summed over providers; refused when it holds nothing. */
async function heldResources(placement: PlacementClient, vm: { name: string; uuid: string }): Promise<Resources> {
  const held = await placement.getAllocations(vm.uuid);
  if (!hasAllocations(held)) {
    throw refuse(
      `${vm.name} holds no allocation in Placement (GET /allocations/${vm.uuid} is empty), so there is nothing to claim on a ` +
        'destination: allocate it on its source host, or revert the migration consumer of an earlier migration that still holds it',
    );
  }
  return totalResources(held.allocations);
}

export function placementActivities(deps: ActivityDeps) {
  const { placement, inventory } = deps;

  async function chooseDestinationHost(input: ChooseDestinationInput): Promise<ChooseDestinationResult> {
    return typed(`choose a destination for ${input.vm.name}`, async () => {
      if (input.requested) {
        const unknown = inventory.unknownHost(input.requested.host);
        if (unknown) throw refuse(`destination: ${unknown}`);
        const host = inventory.get(input.requested.host);
        if (host.name === input.source) {
          throw refuse(`destination ${host.name} is the host the VM runs on: choose another host`, { destinationIsSource: host.name });
        }
        // A host in maintenance (drained or draining) takes no VM, forced or not.
        if (await inMaintenance(placement, host.rp)) throw refuse(maintenanceRefusal(host.name));
        if (input.requested.mode === 'force') {
          return { destination: host.name, how: 'forced', detail: 'forced by the operator; Placement still checks capacity when claiming' };
        }
        const resources = await heldResources(placement, input.vm);
        const c = await placement.getAllocationCandidates({ resources, inTree: host.rp, limit: 1 });
        if (c.allocationRequests.length === 0) {
          throw refuse(`destination ${host.name} has no room for ${fmt(resources)} in Placement`);
        }
        return { destination: host.name, how: 'checked', detail: `${host.name} has room for ${fmt(resources)}` };
      }
      const resources = await heldResources(placement, input.vm);
      const c = await placement.getAllocationCandidates({ resources });
      // A candidate may use nested providers: it belongs to the host whose tree it is in.
      const rootOf = (rp: string) => c.providerSummaries[rp]?.rootProviderUuid ?? rp;
      // A host in maintenance is no candidate: its root provider's summary carries the trait.
      const marked = (rp: string) => c.providerSummaries[rp]?.traits?.includes(MAINTENANCE_TRAIT) ?? false;
      const candidates = inventory.hosts
        .filter((h) => !marked(h.rp))
        .filter((h) => c.allocationRequests.some((r) => Object.keys(r.allocations).some((rp) => rootOf(rp) === h.rp)))
        .map((h) => ({ host: h.name, rp: h.rp }));
      const chosen = chooseDestination(candidates, c.providerSummaries, [input.source]);
      if (!chosen) {
        const resting = inventory.hosts.filter((h) => marked(h.rp)).map((h) => h.name);
        throw refuse(`no host other than ${input.source} has room for ${fmt(resources)} in Placement` +
          (resting.length ? ` (in maintenance, so left out: ${resting.join(', ')})` : ''));
      }
      return { destination: chosen.host, how: 'placement', detail: `Placement candidates for ${fmt(resources)}: ${candidates.map((x) => x.host).join(', ') || 'none'}; chose ${chosen.host}` };
    });
  }

  /**
   * The source allocation moves to the migration consumer and the VM claims the same resources on
   * the destination, atomically. Idempotent by migration id; Placement ends fully claimed or
   * exactly as before (a refusal moves back what an earlier attempt had moved).
   */
  async function claim(input: ClaimInput): Promise<ClaimResult> {
    const dest = inventory.get(input.destination);
    return typed(`claim ${dest.name} for ${input.vm.name} (migration ${input.migrationId})`, async () => {
      let r;
      try {
        r = await claimForMigration(placement, {
          vmUuid: input.vm.uuid, migrationUuid: input.migrationId, destinationRpUuid: dest.rp,
          ...(input.reservationId !== undefined ? { reservationUuid: input.reservationId } : {}),
        });
      } catch (err) {
        if (err instanceof PlacementStateError && (err.code === 'ferry.placement.no_source_allocation' || err.code === 'ferry.placement.no_destination_provider')) {
          throw refuse(err.message);
        }
        throw err;
      }
      if (r.outcome === 'no-room') {
        throw refuse(
          `destination ${dest.name} has no room for ${fmt(r.resources)} in Placement: ${r.reason}` +
            (r.movedBack ? `; the source allocation went back to ${input.vm.name}` : '; nothing was changed'),
        );
      }
      return {
        outcome: r.outcome,
        detail: `${fmt(r.resources)} claimed on ${dest.name}; source allocation held by migration ${input.migrationId}`,
      };
    });
  }

  /**
   * Compensation: the migration consumer's allocation goes back to the VM (replacing a destination
   * claim). Safe in every state: nothing moved, moved, claimed, already reverted, dropped.
   */
  async function revertClaim(input: RevertClaimInput): Promise<string> {
    return typed(`revert the claim of migration ${input.migrationId}`, async () => {
      const r = await revertMigrationAllocation(placement, input.migrationId, input.vmUuid);
      return r.outcome;
    });
  }

  /**
   * Bookkeeping after a completed migration: the source allocation (the migration consumer's) is
   * released. Never re-judges the migration. True when dropped now, false when already dropped.
   * With vmUuid, refuses (PlacementInconsistent) while the VM holds no allocation at all.
   */
  async function dropMigrationClaim(input: DropMigrationClaimInput): Promise<boolean> {
    return typed(`release the source allocation of migration ${input.migrationId}`, async () => {
      const r = await dropMigrationAllocation(placement, input.migrationId, input.vmUuid === undefined ? {} : { vmUuid: input.vmUuid });
      return r.outcome === 'dropped';
    });
  }

  return { chooseDestinationHost, claim, revertClaim, dropMigrationClaim };
}
