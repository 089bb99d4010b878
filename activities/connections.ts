import { LibvirtClient } from './libvirt';
import type { Inventory } from './hosts';

/**
 * One long-lived libvirt connection per host, shared by the worker's activities. A connection
 * that dropped is replaced on next use; calls are never replayed (the activity decides, after
 * observing). It also keeps peer-to-peer migrate calls outstanding after their activity returned:
 * the source daemon owns the migration either way (it survives our death: field notes).
 */
export class HostConnections {
  private readonly clients = new Map<string, Promise<LibvirtClient>>();

  constructor(private readonly inventory: Inventory) {}

  async get(host: string): Promise<LibvirtClient> {
    const entry = this.inventory.get(host);
    const cached = this.clients.get(host);
    if (cached) {
      const c = await cached.catch(() => undefined);
      if (c && c.isConnected) return c;
      this.clients.delete(host);
      await c?.close().catch(() => undefined);
    }
    const fresh = LibvirtClient.connect({ uri: entry.uri });
    this.clients.set(host, fresh);
    fresh.catch(() => this.clients.delete(host));
    return fresh;
  }

  async closeAll(): Promise<void> {
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(all.map((p) => p.then((c) => c.close()).catch(() => undefined)));
  }
}
