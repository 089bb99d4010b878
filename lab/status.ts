import { hostUri } from './hosts';
import { hostsStatus } from './lab';
import { readLabState } from './state';
import { locateVm, vmLatestHeartbeat } from './vms';
import { temporalStatus } from './temporal';
import { placementStatus } from './placement';

export interface LabStatus {
  temporal: { address: string; ui: string } | null;
  placement: { url: string } | null;
  hosts: Array<{ name: string; uri: string; address: string; up: boolean; rp: string }>;
  vms: Array<{ name: string; uuid: string; host: string | null; state: string; heartbeat: number | null }>;
}

export async function labStatus(): Promise<LabStatus> {
  const [t, p] = await Promise.all([temporalStatus(), placementStatus()]);
  const temporal = t.running ? { address: t.address, ui: t.uiUrl } : null;
  const placement = p.running ? { url: p.url } : null;
  const state = readLabState();
  if (!state) return { temporal, placement, hosts: [], vms: [] };
  const hosts = await hostsStatus(state);
  return {
    temporal,
    placement,
    hosts: hosts.map(({ host, up }) => ({ name: host.name, uri: hostUri(host.name), address: host.address, up, rp: host.uuid })),
    vms: await Promise.all(
      state.vms.map(async (vm) => {
        const where = hosts.every((h) => h.up) ? await locateVm(vm.name, state) : { host: null, state: 'unknown' };
        const hb = await vmLatestHeartbeat(vm.name);
        return { name: vm.name, uuid: vm.uuid, host: where.host, state: where.state, heartbeat: hb?.seq ?? null };
      }),
    ),
  };
}
