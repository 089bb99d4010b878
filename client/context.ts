import { Inventory, loadHostInventory } from '../activities/hosts';
import { HostConnections } from '../activities/connections';
import { lookupVm } from '../activities/domain-facts';
import { labInventory } from '../lab/inventory';
import { placementStatus } from '../lab/placement';
import { readLabState } from '../lab/state';
import { temporalStatus } from '../lab/temporal';
import { loadWorkerConfig, type WorkerConfig } from '../worker/config';
import { FerryClient } from './ferry-client';

/**
 * What the CLI connects to: the environment's FERRY_* settings, else the embedded lab's running
 * services (so `ferry migrate` just works after `ferry lab up`).
 */
export async function cliConfig(): Promise<WorkerConfig> {
  const c = loadWorkerConfig();
  if (process.env.FERRY_TEMPORAL_ADDRESS === undefined) {
    const t = await temporalStatus();
    if (t.running) c.FERRY_TEMPORAL_ADDRESS = t.address;
  }
  if (c.FERRY_PLACEMENT_URL === undefined) {
    const p = await placementStatus();
    if (p.running) c.FERRY_PLACEMENT_URL = p.url;
  }
  return c;
}

export async function withFerryClient<T>(fn: (client: FerryClient) => Promise<T>): Promise<T> {
  const client = await FerryClient.connect(await cliConfig());
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

export function cliInventory(c: WorkerConfig): Inventory {
  if (c.FERRY_HOSTS_FILE) return new Inventory(loadHostInventory(c.FERRY_HOSTS_FILE));
  if (readLabState()) return new Inventory(labInventory());
  throw new Error('no host inventory: set FERRY_HOSTS_FILE, or bring the lab up (ferry lab up)');
}

/** The VM's UUID (the workflow id derives from it), looked up on the hosts ferry knows. */
export async function resolveVmUuid(inventory: Inventory, vm: string): Promise<{ uuid: string; host: string }> {
  const connections = new HostConnections(inventory);
  try {
    const found: Array<{ uuid: string; host: string }> = [];
    for (const h of inventory.hosts) {
      const c = await connections.get(h.name).catch(() => undefined);
      const dom = c ? await lookupVm(c, vm) : undefined;
      if (dom && c) {
        const st = await c.domainGetState(dom);
        if (st.stateName === 'running' || st.stateName === 'paused') found.push({ uuid: dom.uuid, host: h.name });
      }
    }
    if (found.length === 0) throw new Error(`VM '${vm}' runs on none of the hosts ferry knows (${inventory.hosts.map((h) => h.name).join(', ')})`);
    return found[0]!;
  } finally {
    await connections.closeAll();
  }
}
