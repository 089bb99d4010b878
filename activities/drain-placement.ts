import type {
  ReleaseRoomInput, ReserveRoomInput, ReserveRoomResult, SetHostMaintenanceInput, SetHostMaintenanceResult,
} from '../model/drain/activity-io';
import { MAINTENANCE_TRAIT } from '../model/drain/maintenance';
import { placementFailure } from './claims';
import type { ActivityDeps } from './deps';
import { releaseRoom as releaseInPlacement, reserveRoom as reserveInPlacement, setMaintenanceTrait } from './placement';
import { refuse } from './refusal';

/**
 * The drain's Placement acts, thin and idempotent by id: the host's maintenance mark, and the room
 * held for each planned move (a reservation consumer). Placement's errors are typed as the claim's
 * are (PlacementUnavailable retryable, ...), so the workflow's retry policy reads them alike.
 */
export function drainPlacementActivities(deps: ActivityDeps) {
  const { placement, inventory } = deps;

  async function typed<T>(what: string, act: () => Promise<T>): Promise<T> {
    try {
      return await act();
    } catch (err) {
      throw placementFailure(err, what);
    }
  }

  async function setHostMaintenance(input: SetHostMaintenanceInput): Promise<SetHostMaintenanceResult> {
    const unknown = inventory.unknownHost(input.host);
    if (unknown) throw refuse(`host: ${unknown}`);
    const host = inventory.get(input.host);
    return typed(`${input.on ? 'mark' : 'release'} ${host.name} ${input.on ? 'in' : 'from'} maintenance (${MAINTENANCE_TRAIT})`, async () => {
      const r = await setMaintenanceTrait(placement, host.rp, input.on);
      return { host: host.name, ...r };
    });
  }

  async function reserveRoom(input: ReserveRoomInput): Promise<ReserveRoomResult> {
    const dest = inventory.get(input.destination);
    return typed(`reserve room on ${dest.name} (reservation ${input.reservationId})`, async () => {
      // The reservation belongs to the VM's owner in Placement (a VM without allocation: ferry's).
      const vm = await placement.getAllocations(input.vmUuid);
      const owner = { projectId: vm.projectId ?? 'ferry', userId: vm.userId ?? 'ferry-drain' };
      const r = await reserveInPlacement(placement, { reservationId: input.reservationId, destinationRpUuid: dest.rp, resources: input.resources, ...owner });
      const what = Object.entries(input.resources).map(([k, n]) => `${k}:${n}`).join(',');
      if (r.outcome === 'no-room') throw refuse(`no room left on ${dest.name} for ${what}: ${r.reason} (other work took it since the plan)`);
      return { outcome: r.outcome, detail: `${what} held on ${dest.name} by reservation ${input.reservationId}` };
    });
  }

  async function releaseRoom(input: ReleaseRoomInput): Promise<boolean> {
    return typed(`release reservation ${input.reservationId}`, () => releaseInPlacement(placement, input.reservationId));
  }

  return { setHostMaintenance, reserveRoom, releaseRoom };
}
