/**
 * The facts the vPMEM assignment decides from, read on the destination host and in Placement:
 * which namespaces the host's domains use (from their XML), what the VM's allocation claims there
 * per namespace class, and which VMs still hold a namespace class there (to judge the records).
 */
import type { DomainPmemUse } from '../../model/pmem/assignment';
import { isPmemResourceClass } from '../../model/pmem/namespace';
import { ErrorCode, LibvirtError, type LibvirtClient } from '../libvirt';
import { vpmemDevicesOfXml } from '../libvirt/dest-xml';
import type { AllocationMap, PlacementClient } from '../placement';

/** Every domain defined or running on the host, with the vPMEM paths it uses (live XML for running ones). */
export async function domainsPmemUse(c: LibvirtClient): Promise<DomainPmemUse[]> {
  const uses: DomainPmemUse[] = [];
  for (const dom of await c.listAllDomains(0)) {
    let xml: string;
    try {
      xml = await c.domainGetXmlDesc(dom);
    } catch (err) {
      // Gone between the listing and the read: it uses nothing any more.
      if (err instanceof LibvirtError && err.code === ErrorCode.NoDomain) continue;
      throw err;
    }
    const paths = vpmemDevicesOfXml(xml).map((d) => d.path).filter((p): p is string => p !== undefined);
    uses.push({ uuid: dom.uuid, name: dom.name, paths });
  }
  return uses;
}

/** Namespace class -> count held on the providers of the host's tree. */
export function pmemHeldOn(allocations: AllocationMap, tree: ReadonlySet<string>): Record<string, number> {
  const held: Record<string, number> = {};
  for (const [rp, resources] of Object.entries(allocations)) {
    if (!tree.has(rp)) continue;
    for (const [rc, n] of Object.entries(resources)) if (isPmemResourceClass(rc) && n > 0) held[rc] = (held[rc] ?? 0) + n;
  }
  return held;
}

/** The host's provider and its nested providers in Placement. */
export async function providerTree(placement: PlacementClient, rootRp: string): Promise<Set<string>> {
  return new Set((await placement.listResourceProviders({ inTree: rootRp })).map((p) => p.uuid));
}

/** Of these VMs, those holding any namespace class on the host's tree now. */
export async function pmemClaimants(placement: PlacementClient, vmUuids: Iterable<string>, tree: ReadonlySet<string>): Promise<string[]> {
  const holding: string[] = [];
  for (const vm of new Set(vmUuids)) {
    const held = pmemHeldOn((await placement.getAllocations(vm)).allocations, tree);
    if (Object.keys(held).length > 0) holding.push(vm);
  }
  return holding.sort();
}
