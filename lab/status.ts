import { observeFaults, type DownItem } from './faults';
import { hostDaemonPidOf, hostUri } from './hosts';
import { hostsStatus } from './lab';
import { hostLinkUp, partitionedAddresses } from './network';
import { readLabState } from './state';
import { locateVm, vmLatestHeartbeat } from './vms';
import { temporalStatus } from './temporal';
import { placementStatus } from './placement';

export interface LabStatus {
  temporal: { address: string; ui: string } | null;
  placement: { url: string } | null;
  hosts: Array<{
    name: string;
    uri: string;
    address: string;
    /** libvirtd runs and accepts connections. */
    up: boolean;
    rp: string;
    libvirtd: number | null;
    virtlogd: number | null;
    /** up, cut (bridge port down), or missing. */
    link: 'up' | 'cut' | 'missing';
    /** Hosts this one is partitioned from (the path between the two is cut). */
    cutFrom: string[];
  }>;
  vms: Array<{ name: string; uuid: string; host: string | null; state: string; heartbeat: number | null }>;
  /** What is down right now, and since when when the lab inflicted it (lab/faults.ts). */
  down: DownItem[];
}

export async function labStatus(): Promise<LabStatus> {
  const [t, p] = await Promise.all([temporalStatus(), placementStatus()]);
  const temporal = t.running ? { address: t.address, ui: t.uiUrl } : null;
  const placement = p.running ? { url: p.url } : null;
  const state = readLabState();
  if (!state) return { temporal, placement, hosts: [], vms: [], down: [] };
  const hosts = await hostsStatus(state);
  const byAddress = new Map(state.hosts.map((h) => [h.address, h.name]));
  return {
    temporal,
    placement,
    hosts: await Promise.all(
      hosts.map(async ({ host, up }) => {
        const link = await hostLinkUp(host.name);
        return {
          name: host.name,
          uri: hostUri(host.name),
          address: host.address,
          up,
          rp: host.uuid,
          libvirtd: hostDaemonPidOf(host.name, 'libvirtd') ?? null,
          virtlogd: hostDaemonPidOf(host.name, 'virtlogd') ?? null,
          link: link === undefined ? ('missing' as const) : link ? ('up' as const) : ('cut' as const),
          cutFrom: (await partitionedAddresses(host.name)).map((a) => byAddress.get(a) ?? a),
        };
      }),
    ),
    vms: await Promise.all(
      state.vms.map(async (vm) => {
        const where = hosts.every((h) => h.up) ? await locateVm(vm.name, state) : { host: null, state: 'unknown' };
        const hb = await vmLatestHeartbeat(vm.name);
        return { name: vm.name, uuid: vm.uuid, host: where.host, state: where.state, heartbeat: hb?.seq ?? null };
      }),
    ),
    down: await observeFaults(state),
  };
}
