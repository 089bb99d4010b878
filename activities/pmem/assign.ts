/**
 * The destination's namespaces for a migrating guest's vPMEM devices: facts from the destination
 * and Placement, the pure decision (model/pmem/assignment.ts), then the records that make it
 * stick. Idempotent by migration id; prepare, start and a recovery get the same answer.
 */
import { assignNamespaces, type PmemDevice } from '../../model/pmem/assignment';
import type { ActivityDeps } from '../deps';
import { vpmemDevicesOfXml } from '../libvirt/dest-xml';
import { placementFailure } from '../claims';
import { refuse } from '../refusal';
import { domainsPmemUse, pmemClaimants, pmemHeldOn, providerTree } from './destination-facts';
import { PmemAssignmentRecords } from './records';

/** A lost race for a namespace makes the loser decide again; more losses than this is no race. */
const MAX_ROUNDS = 5;

export interface PmemTarget {
  vm: { name: string; uuid: string };
  destination: string;
  /** Absent for runs begun before namespaces were recorded. */
  migrationId?: string | undefined;
}

/** The guest's vPMEM devices from its source XML, each with a path and a whole size, or a refusal. */
export function pmemDevicesOf(vmName: string, sourceXml: string): PmemDevice[] {
  return vpmemDevicesOfXml(sourceXml).map((d) => {
    if (d.path === undefined || d.sizeMiB === undefined) {
      throw refuse(`${vmName}'s vPMEM ${d.model} at ${d.at} has ${d.path === undefined ? 'no backing path' : 'no size in whole MiB'}: ferry cannot match it to a namespace`);
    }
    return { path: d.path, sizeMiB: d.sizeMiB };
  });
}

/**
 * Source backing path -> destination namespace path for every vPMEM device, or undefined for a
 * guest without any (nothing to assign: the XML is built as before).
 */
export async function assignDestinationPmem(deps: ActivityDeps, t: PmemTarget, sourceXml: string): Promise<Record<string, string> | undefined> {
  const devices = pmemDevicesOf(t.vm.name, sourceXml);
  if (devices.length === 0) return undefined;
  const host = deps.inventory.get(t.destination);
  if (!host.pmem) {
    throw refuse(`${t.vm.name} has ${devices.length} vPMEM device(s) but ${host.name} lists no persistent-memory namespaces in the host inventory (pmem.namespaces)`);
  }
  const records = new PmemAssignmentRecords(host.pmem.assignmentsDir);
  const d = await deps.connections.get(host.name);
  for (let round = 1; ; round++) {
    const recorded = records.list();
    const placementFacts = await (async () => {
      try {
        const tree = await providerTree(deps.placement, host.rp);
        const claimed = pmemHeldOn((await deps.placement.getAllocations(t.vm.uuid)).allocations, tree);
        const claimants = await pmemClaimants(deps.placement, recorded.map((r) => r.vmUuid), tree);
        return { claimed, claimants };
      } catch (err) {
        throw placementFailure(err, `read the vPMEM claims on ${host.name}`);
      }
    })();
    const decision = assignNamespaces({
      host: host.name,
      migrationId: t.migrationId ?? null,
      vm: t.vm,
      devices,
      namespaces: host.pmem.namespaces,
      domains: await domainsPmemUse(d),
      records: recorded,
      ...placementFacts,
    });
    if (!decision.ok) throw refuse(decision.reason);
    for (const s of decision.stale) records.dropStale(s);
    const lost = decision.toRecord.find((r) => records.create(r) === 'taken');
    if (!lost) return decision.pmemPaths;
    if (round >= MAX_ROUNDS) {
      // Retryable: the activity's retry decides again from fresh facts.
      throw new Error(`namespace ${lost.namespace} on ${host.name} was taken by another migration ${round} times in a row while assigning ${t.vm.name}'s vPMEM`);
    }
  }
}
