import type { GatherDrainFactsInput } from '../model/drain/activity-io';
import type { DrainDestination, DrainFacts, DrainVm } from '../model/drain/schemas';
import type { ActivityDeps } from './deps';
import { guestCpuXml, sizeFromXml } from './domain-facts';
import type { HostEntry } from './hosts';
import { DomainXmlFlags, ListAllDomainsFlags, type DomainRef, type LibvirtClient } from './libvirt';
import { postcopyBlockers } from './libvirt/dest-xml';
import { placementFailure } from './claims';
import { measureDirtyRates } from './dirty-rates';
import { inMaintenance, totalResources } from './placement';
import { refuse } from './refusal';

const CPU_INCOMPATIBLE = 0;

/**
 * What a drain plans from, read-only: every active VM on the host (its size, what it holds in
 * Placement, post-copy blockers, and why it cannot move at all), and every other host's free room
 * (Placement's inventories minus usages), maintenance mark, limits, and which of the VMs' CPUs it
 * cannot run. A host that does not answer is reported and is no destination. Each movable VM's
 * dirty rate is measured by QEMU over one second (null where it cannot be: the plan counts the VM
 * as quiet).
 */
export function drainFactsActivities(deps: ActivityDeps) {
  async function gatherDrainFacts(input: GatherDrainFactsInput): Promise<DrainFacts> {
    const unknown = deps.inventory.unknownHost(input.host);
    if (unknown) throw refuse(`host: ${unknown}`);
    try {
      return await gather(input);
    } catch (err) {
      // Placement's errors typed as the claim's (PlacementUnavailable: retried; ...); libvirt's as they come.
      throw placementFailure(err, `gather the facts of a drain of ${input.host}`);
    }
  }

  async function gather(input: GatherDrainFactsInput): Promise<DrainFacts> {
    const source = deps.inventory.get(input.host);
    const src = await deps.connections.get(source.name);
    const vms: Array<DrainVm & { cpuXml: string | undefined; query: CpuQuery }> = [];
    const movable: DomainRef[] = [];
    for (const dom of await src.listAllDomains(ListAllDomainsFlags.Active)) {
      const st = await src.domainGetState(dom);
      const xml = await src.domainGetXmlDesc(dom, DomainXmlFlags.Migratable);
      const job = await src.domainGetJobStats(dom);
      const held = await deps.placement.getAllocations(dom.uuid);
      const unmovable = st.stateName === 'paused'
        ? `paused (${st.reasonName}): ferry live-migrates running guests; resume it first`
        : job.typeName !== 'None' ? `it has a job running (${job.typeName.toLowerCase()}: another migration, a save or a dump)`
          : /<hostdev[\s>]/.test(xml) ? 'it has a <hostdev> (VFIO/PCI passthrough) device, which cannot be live-migrated'
            : null;
      vms.push({
        name: dom.name, uuid: dom.uuid, ...sizeFromXml(xml), resources: totalResources(held.allocations), dirtyBps: null,
        postcopyBlockers: postcopyBlockers(xml), unmovable, cpuXml: guestCpuXml(xml), query: cpuQuery(xml),
      });
      if (unmovable === null) movable.push(dom);
    }
    const rates = await measureDirtyRates(src, movable);
    for (const v of vms) v.dirtyBps = rates.get(v.uuid) ?? null;
    const destinations: DrainDestination[] = [];
    const unreachable: DrainFacts['unreachable'] = [];
    for (const host of deps.inventory.hosts.filter((h) => h.name !== source.name)) {
      try {
        destinations.push(await destinationFacts(deps, host, vms));
      } catch (err) {
        unreachable.push({ host: host.name, error: (err as Error).message });
      }
    }
    return {
      host: source.name,
      maxOutgoing: source.limits?.maxOutgoingMigrations ?? null,
      vms: vms.map(({ cpuXml: _x, query: _q, ...vm }) => vm),
      destinations,
      unreachable,
    };
  }
  return { gatherDrainFacts };
}

interface CpuQuery { emulator?: string; arch?: string; machine?: string; virtType?: string }

function cpuQuery(xml: string): CpuQuery {
  return {
    arch: /<type[^>]*arch=['"]([\w-]+)['"]/.exec(xml)?.[1],
    machine: /<type[^>]*machine=['"]([\w.-]+)['"]/.exec(xml)?.[1],
    virtType: /<domain[^>]*type=['"](\w+)['"]/.exec(xml)?.[1],
    emulator: /<emulator>([^<]+)<\/emulator>/.exec(xml)?.[1],
  };
}

async function destinationFacts(
  deps: ActivityDeps,
  host: HostEntry,
  vms: ReadonlyArray<{ uuid: string; cpuXml: string | undefined; query: CpuQuery }>,
): Promise<DrainDestination> {
  const [inventories, usages, maintenance] = await Promise.all([
    deps.placement.getInventories(host.rp), deps.placement.getUsages(host.rp), inMaintenance(deps.placement, host.rp),
  ]);
  const free: Record<string, number> = {};
  for (const [rc, inv] of Object.entries(inventories.inventories)) {
    free[rc] = Math.max(0, Math.floor((inv.total - inv.reserved) * inv.allocation_ratio) - (usages.usages[rc] ?? 0));
  }
  const client: LibvirtClient = await deps.connections.get(host.name);
  const cpuIncompatible: string[] = [];
  for (const vm of vms) {
    if (vm.cpuXml && (await client.connectCompareHypervisorCpu(vm.cpuXml, vm.query)) === CPU_INCOMPATIBLE) cpuIncompatible.push(vm.uuid);
  }
  return { host: host.name, free, maintenance, cpuIncompatible, maxIncoming: host.limits?.maxIncomingMigrations ?? null };
}
