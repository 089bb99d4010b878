import { HostInventorySchema, type HostInventory } from '../activities/hosts';
import type { PmemNamespace } from '../model/pmem/namespace';
import { hostPeerUri, hostUri } from './hosts';
import { labPmemAssignmentsDir } from './pmem';
import { requireLabState } from './state';

/** The lab's hosts as ferry's host inventory. */
export function labInventory(): HostInventory {
  return labInventoryOf(requireLabState().hosts);
}

/**
 * The inventory of lab hosts, checked by the same schema as an operator's FERRY_HOSTS_FILE: a
 * lab change that produced an entry production would refuse fails here, not in a migration.
 */
export function labInventoryOf(hosts: ReadonlyArray<{ name: string; uuid: string; pmemNamespaces?: PmemNamespace[] }>): HostInventory {
  return HostInventorySchema.parse(hosts.map((h) => ({
    name: h.name, uri: hostUri(h.name), peerUri: hostPeerUri(h.name), rp: h.uuid,
    ...(h.pmemNamespaces?.length ? { pmem: { namespaces: h.pmemNamespaces, assignmentsDir: labPmemAssignmentsDir(h.name) } } : {}),
  })));
}
