import type { LocateVmInput, LocateVmResult } from '../model/activity-contract';
import type { ActivityDeps } from './deps';
import { lookupVm } from './domain-facts';

/**
 * Where a VM is defined, and in what state, on every host of the inventory: how the CLI learns a
 * VM's UUID behind Temporal (the operator's machine never talks to libvirt). A host that does not
 * answer is reported, not fatal: the caller decides whether what was found is enough.
 */
export function locateActivities(deps: ActivityDeps) {
  return async function locateVm(input: LocateVmInput): Promise<LocateVmResult> {
    const out: LocateVmResult = { found: [], unreachable: [], hosts: deps.inventory.hosts.map((h) => h.name) };
    await Promise.all(deps.inventory.hosts.map(async (h) => {
      try {
        const c = await deps.connections.get(h.name);
        const dom = await lookupVm(c, input.vm);
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
  };
}
