import type { HostInventory } from '../activities/hosts';
import { hostPeerUri, hostUri } from './hosts';
import { requireLabState } from './state';

/** The lab's hosts as ferry's host inventory. */
export function labInventory(): HostInventory {
  return requireLabState().hosts.map((h) => ({ name: h.name, uri: hostUri(h.name), peerUri: hostPeerUri(h.name), rp: h.uuid }));
}
