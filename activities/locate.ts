import type { LocateVmInput, LocateVmResult } from '../model/activity-contract';
import type { ActivityDeps } from './deps';
import { lookupVm } from './domain-facts';
import type { HostEntry } from './hosts';

/**
 * Where a VM is defined, and in what state, on the given hosts (all of the inventory by default).
 * A host that does not answer is reported, not fatal: the caller decides whether what was found
 * is enough. The one VM search of ferry: the pre-checks and the CLI (through the locateVm
 * activity, so the operator's machine never talks to libvirt) both use it.
 */
export async function findVm(deps: ActivityDeps, vm: string, hosts: readonly HostEntry[] = deps.inventory.hosts): Promise<LocateVmResult> {
  const out: LocateVmResult = { found: [], unreachable: [], hosts: hosts.map((h) => h.name) };
  await Promise.all(hosts.map(async (h) => {
    try {
      const c = await deps.connections.get(h.name);
      const dom = await lookupVm(c, vm);
      if (!dom) return;
      const st = await c.domainGetState(dom);
      out.found.push({ host: h.name, name: dom.name, uuid: dom.uuid, state: st.stateName, reason: st.reasonName });
    } catch (err) {
      out.unreachable.push({ host: h.name, error: (err as Error).message });
    }
  }));
  out.found.sort((a, b) => a.host.localeCompare(b.host));
  out.unreachable.sort((a, b) => a.host.localeCompare(b.host));
  return out;
}

export function locateActivities(deps: ActivityDeps) {
  return async function locateVm(input: LocateVmInput): Promise<LocateVmResult> {
    return findVm(deps, input.vm);
  };
}
