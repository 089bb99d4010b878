import fs from 'node:fs';
import { DomainEventId, isLibvirtError, LibvirtClient, type EventSubscription, type TypedDomainEvent } from './libvirt';
import type { Inventory } from './hosts';

/** What a host's event feed delivers: libvirt's events about any domain, then 'feed-lost' once. */
export type HostEvent = TypedDomainEvent | { kind: 'feed-lost'; reason: string };

/**
 * The migration events of one host (lifecycle, migration-iteration, job-completed, all domains),
 * registered once on one connection. When that connection drops the feed ends with 'feed-lost':
 * events may have been missed, so a listener must look again, then ask for the next feed.
 */
export interface HostEventFeed {
  readonly host: string;
  readonly lost: boolean;
  /** Calls the listener for each event until the returned function is called. */
  listen(listener: (e: HostEvent) => void): () => void;
}

class ConnectionFeed implements HostEventFeed {
  private readonly listeners = new Set<(e: HostEvent) => void>();
  private lostReason: string | null = null;

  constructor(readonly host: string) {}

  get lost(): boolean {
    return this.lostReason !== null;
  }

  listen(listener: (e: HostEvent) => void): () => void {
    if (this.lostReason !== null) {
      const reason = this.lostReason;
      queueMicrotask(() => listener({ kind: 'feed-lost', reason }));
      return () => undefined;
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  deliver(e: HostEvent): void {
    if (this.lostReason !== null) return;
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch {
        // a listener's bug must not starve the others
      }
    }
  }

  end(reason: string): void {
    if (this.lostReason !== null) return;
    this.deliver({ kind: 'feed-lost', reason });
    this.lostReason = reason;
    this.listeners.clear();
  }
}

/**
 * One long-lived libvirt connection per host, shared by the worker's activities. A connection
 * that dropped is replaced on next use; calls are never replayed (the activity decides, after
 * observing). It also keeps peer-to-peer migrate calls outstanding after their activity returned:
 * the source daemon owns the migration either way (it survives our death: field notes).
 *
 * Event subscriptions live here too, with the connection that carries them: registered once per
 * connection when first asked for, and again on the replacement connection of a host whose events
 * were asked for before (libvirt forgets callbacks with the connection).
 */
export class HostConnections {
  private readonly clients = new Map<string, Promise<LibvirtClient>>();
  private readonly feeds = new WeakMap<LibvirtClient, Promise<ConnectionFeed>>();
  /** Hosts whose events someone asked for: their replacement connections subscribe at once. */
  private readonly eventHosts = new Set<string>();

  /**
   * What libvirt said when a migrate call of this worker ended in error, by VM UUID: libvirt 9.0
   * keeps no failed job's record (test/fixtures/job-stats), so its words live only in that call's
   * error. In memory: a worker that restarts has lost them (the outcome then says only what the
   * hosts show).
   */
  private readonly migrateErrors = new Map<string, string>();

  constructor(private readonly inventory: Inventory) {}

  recordMigrateError(vmUuid: string, message: string): void {
    this.migrateErrors.set(vmUuid, message);
  }

  /** The error of this VM's last migrate call, if it ended in one; cleared when a new call starts. */
  migrateError(vmUuid: string): string | undefined {
    return this.migrateErrors.get(vmUuid);
  }

  clearMigrateError(vmUuid: string): void {
    this.migrateErrors.delete(vmUuid);
  }

  async get(host: string): Promise<LibvirtClient> {
    const entry = this.inventory.get(host);
    for (;;) {
      const cached = this.clients.get(host);
      if (!cached) break;
      const c = await cached.catch(() => undefined);
      if (c && c.isConnected) return c;
      if (this.clients.get(host) !== cached) continue; // replaced meanwhile: use the replacement
      this.clients.delete(host);
      void c?.close().catch(() => undefined);
      break;
    }
    // TLS files are read at each connect: a renewed certificate is used without a restart.
    const tls = entry.tls && {
      ...(entry.tls.caCert ? { ca: fs.readFileSync(entry.tls.caCert) } : {}),
      cert: fs.readFileSync(entry.tls.clientCert),
      key: fs.readFileSync(entry.tls.clientKey),
    };
    const fresh = LibvirtClient.connect({ uri: entry.uri, ...(tls ? { tls } : {}) }).then((c) => {
      // Subscribe again at once; a failure is reported to whoever asks for the feed.
      if (this.eventHosts.has(host)) this.feedOf(host, c).catch(() => undefined);
      return c;
    });
    this.clients.set(host, fresh);
    fresh.catch(() => {
      if (this.clients.get(host) === fresh) this.clients.delete(host);
    });
    return fresh;
  }

  /**
   * The host's event feed on its current connection (connecting, and subscribing on first use).
   * Rejects when the host is unreachable or its daemon refused the subscription; a refusal holds
   * for that connection's life (the next connection tries again).
   */
  async eventFeed(host: string): Promise<HostEventFeed> {
    this.eventHosts.add(host);
    const c = await this.get(host);
    return this.feedOf(host, c);
  }

  private feedOf(host: string, c: LibvirtClient): Promise<ConnectionFeed> {
    let feed = this.feeds.get(c);
    if (!feed) {
      feed = subscribeFeed(host, c);
      this.feeds.set(c, feed);
      // Only a daemon's refusal is kept; a lost connection or a timeout may go better next time.
      feed.catch((err: unknown) => {
        if (!isLibvirtError(err) && this.feeds.get(c) === feed) this.feeds.delete(c);
      });
    }
    return feed;
  }

  async closeAll(): Promise<void> {
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(all.map((p) => p.then((c) => c.close()).catch(() => undefined)));
  }
}

async function subscribeFeed(host: string, c: LibvirtClient): Promise<ConnectionFeed> {
  const feed = new ConnectionFeed(host);
  const deliver = (e: HostEvent) => feed.deliver(e);
  const stopWatching = c.onConnectionEvent((e) => {
    if (e.type === 'disconnected') feed.end(e.error.message);
  });
  const subs: EventSubscription[] = [];
  try {
    subs.push(await c.subscribeDomainEvent(DomainEventId.Lifecycle, deliver));
    subs.push(await c.subscribeDomainEvent(DomainEventId.MigrationIteration, deliver));
    subs.push(await c.subscribeDomainEvent(DomainEventId.JobCompleted, deliver));
  } catch (err) {
    stopWatching();
    await Promise.all(subs.map((s) => s.unsubscribe().catch(() => undefined)));
    throw err;
  }
  if (!c.isConnected) feed.end('the connection dropped while subscribing');
  return feed;
}
