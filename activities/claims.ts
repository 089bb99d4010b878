import type { ChooseDestinationInput, ChooseDestinationResult, ClaimInput, ClaimResult } from '../model/activity-contract';
import { chooseDestination } from '../model/destination-choice';
import type { ActivityDeps } from './deps';
import {
  PlacementError, claimDestination, dropMigrationAllocation, moveSourceAllocationToMigration, revertMigrationAllocation,
  type Resources,
} from './placement';
import { refuse } from './refusal';

/** The VM's claim in Placement (Nova's migration-consumer pattern), and its compensation. */

export function vmResources(vm: { memoryMiB: number; vcpus: number }): Resources {
  return { VCPU: vm.vcpus, MEMORY_MB: vm.memoryMiB };
}
const fmt = (r: Resources) => Object.entries(r).map(([k, n]) => `${k}:${n}`).join(',');

export function placementActivities(deps: ActivityDeps) {
  const { placement, inventory } = deps;

  async function chooseDestinationHost(input: ChooseDestinationInput): Promise<ChooseDestinationResult> {
    const resources = vmResources(input.vm);
    if (input.requested) {
      const unknown = inventory.unknownHost(input.requested.host);
      if (unknown) throw refuse(`destination: ${unknown}`);
      const host = inventory.get(input.requested.host);
      if (host.name === input.source) {
        throw refuse(`destination ${host.name} is the host the VM runs on: choose another host`);
      }
      if (input.requested.mode === 'force') {
        return { destination: host.name, how: 'forced', detail: 'forced by the operator; Placement still checks capacity when claiming' };
      }
      const c = await placement.getAllocationCandidates({ resources, inTree: host.rp, limit: 1 });
      if (c.allocationRequests.length === 0) {
        throw refuse(`destination ${host.name} has no room for ${fmt(resources)} in Placement`);
      }
      return { destination: host.name, how: 'checked', detail: `${host.name} has room for ${fmt(resources)}` };
    }
    const c = await placement.getAllocationCandidates({ resources });
    const candidates = inventory.hosts
      .filter((h) => c.allocationRequests.some((r) => r.allocations[h.rp] !== undefined))
      .map((h) => ({ host: h.name, rp: h.rp }));
    const chosen = chooseDestination(candidates, c.providerSummaries, [input.source]);
    if (!chosen) throw refuse(`no host other than ${input.source} has room for ${fmt(resources)} in Placement`);
    return { destination: chosen.host, how: 'placement', detail: `Placement candidates: ${candidates.map((x) => x.host).join(', ') || 'none'}; chose ${chosen.host}` };
  }

  /** Moves the VM's source allocation to the migration consumer, then claims the destination for the VM. */
  async function claim(input: ClaimInput): Promise<ClaimResult> {
    const dest = inventory.get(input.destination);
    await moveSourceAllocationToMigration(placement, input.vm.uuid, input.migrationId);
    const held = await placement.getAllocations(input.migrationId);
    try {
      const r = await claimDestination(placement, {
        vmUuid: input.vm.uuid,
        destinationRpUuid: dest.rp,
        resources: vmResources(input.vm),
        projectId: held.projectId ?? '',
        userId: held.userId ?? '',
      });
      return { outcome: r.outcome, detail: `${fmt(vmResources(input.vm))} claimed on ${dest.name}; source allocation held by migration ${input.migrationId}` };
    } catch (err) {
      if (err instanceof PlacementError && err.status === 409 && /capacity|Unable to allocate/i.test(err.message)) {
        throw refuse(`destination ${dest.name} has no room for ${fmt(vmResources(input.vm))} in Placement: ${err.detail ?? err.message}`);
      }
      throw err;
    }
  }

  /** Compensation: the migration consumer's allocation goes back to the VM (dropping any destination claim). */
  async function revertClaim(input: { migrationId: string; vmUuid: string }): Promise<string> {
    const r = await revertMigrationAllocation(placement, input.migrationId, input.vmUuid);
    return r.outcome;
  }

  async function dropMigrationClaim(input: { migrationId: string }): Promise<boolean> {
    return dropMigrationAllocation(placement, input.migrationId);
  }

  return { chooseDestinationHost, claim, revertClaim, dropMigrationClaim };
}
