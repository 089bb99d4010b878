import { hostUri } from './hosts';
import { hostsStatus } from './lab';
import { readLabState } from './state';

export interface LabStatus {
  temporal: { address: string; ui: string } | null;
  placement: { url: string } | null;
  hosts: Array<{ name: string; uri: string; address: string; up: boolean; rp: string }>;
  vms: Array<{ name: string; uuid: string; host: string | null; state: string; heartbeat: number | null }>;
}

export async function labStatus(): Promise<LabStatus> {
  const state = readLabState();
  if (!state) return { temporal: null, placement: null, hosts: [], vms: [] };
  const hosts = await hostsStatus(state);
  return {
    temporal: null,
    placement: null,
    hosts: hosts.map(({ host, up }) => ({ name: host.name, uri: hostUri(host.name), address: host.address, up, rp: host.uuid })),
    vms: [],
  };
}
