/**
 * The connection life cycle under LibvirtClient: open the socket, authenticate, CONNECT_OPEN,
 * negotiate keepalive, run calls, keep event subscriptions alive across reconnects.
 * Reconnecting re-registers event callbacks but never re-sends a call: a call interrupted by a
 * lost connection fails with ConnectionLostError and the caller decides (observe, then retry).
 */
import type tls from 'node:tls';
import { RpcConnection, type EventMessage, type KeepaliveOptions, type SocketFactory } from './connection';
import { ConnectFlags } from './constants';
import { ConnectionLostError, ProtocolError } from './errors';
import { domainEventCodecs, peekCallbackId, type DomainEventMap, type TypedDomainEventId } from './events';
import { AuthType, DriverFeature, Limits, Procedure, procedureName } from './protocol';
import { writeOptDomain, writeOptString, type DomainRef } from './remote-types';
import { parseLibvirtUri, socketFactoryFor } from './uri';
import { XdrReader, XdrWriter } from './xdr';

export interface ReconnectOptions {
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Give up after this many failed attempts in a row (default: never). */
  maxAttempts?: number;
}

export interface LibvirtClientOptions {
  /** e.g. "qemu+unix:///system?socket=/run/libvirt/libvirt-sock" or "qemu+tcp://host-b/system". */
  uri?: string;
  /** Overrides the transport derived from `uri` (tests, proxies, custom TLS). */
  socketFactory?: SocketFactory;
  /** Name sent in CONNECT_OPEN (default: derived from `uri`, else "qemu:///system"). */
  name?: string;
  readOnly?: boolean;
  /** Default deadline per call in ms (default 30 s; 0 = none). Long calls pass their own. */
  callTimeoutMs?: number;
  /** Client-side pings (default 5 s x 5); false = only answer the daemon's pings. */
  keepalive?: KeepaliveOptions | false;
  /** Reopen the connection after it drops (default: off). */
  reconnect?: ReconnectOptions | false;
  connectTimeoutMs?: number;
  tls?: tls.ConnectionOptions;
}

export type ConnectionEvent =
  | { type: 'disconnected'; error: ConnectionLostError }
  | { type: 'reconnected'; attempt: number }
  | { type: 'reconnect-failed'; attempt: number; error: Error }
  | { type: 'gave-up'; attempts: number }
  | { type: 'event-error'; procedure: number; error: Error };

export interface CallParams {
  timeoutMs?: number;
}

/** RPC calls a client has sent, by procedure name (diagnostics and benchmarks). */
export interface RpcCallCounts {
  total: number;
  byProcedure: Record<string, number>;
}

/** What was called between two readings of `rpcCalls()`. */
export function rpcCallsSince(before: RpcCallCounts, after: RpcCallCounts): RpcCallCounts {
  const byProcedure: Record<string, number> = {};
  for (const [name, n] of Object.entries(after.byProcedure)) {
    const d = n - (before.byProcedure[name] ?? 0);
    if (d > 0) byProcedure[name] = d;
  }
  return { total: after.total - before.total, byProcedure };
}

export interface EventSubscription {
  readonly id: number;
  unsubscribe(): Promise<void>;
}

interface Subscription {
  localId: number;
  eventId: number;
  procedure: number;
  dom: DomainRef | null;
  deliver: (payload: Buffer) => void;
  remoteId: number | null;
}

const DEFAULT_KEEPALIVE: KeepaliveOptions = { intervalMs: 5000, count: 5 };

type SetupCall = <T>(procedure: number, encode?: (w: XdrWriter) => void, decode?: (r: XdrReader) => T) => Promise<T>;

export class LibvirtClientCore {
  protected conn: RpcConnection | null = null;
  private readonly factory: SocketFactory;
  private readonly openName: string;
  private readonly subs = new Map<number, Subscription>();
  private readonly byRemoteId = new Map<number, Subscription>();
  private readonly listeners = new Set<(e: ConnectionEvent) => void>();
  private nextLocalId = 1;
  private closing = false;
  private reconnecting: Promise<void> | null = null;
  private keepaliveActive = false;
  /** Calls sent, by procedure number: one map increment per call, always on. */
  private readonly callCounts = new Map<number, number>();
  private callTotal = 0;

  protected constructor(protected readonly options: LibvirtClientOptions) {
    const parsed = options.uri ? parseLibvirtUri(options.uri) : null;
    if (options.socketFactory) this.factory = options.socketFactory;
    else if (parsed) this.factory = socketFactoryFor(parsed.transport, { connectTimeoutMs: options.connectTimeoutMs, tls: options.tls });
    else throw new Error('LibvirtClient needs a uri or a socketFactory');
    this.openName = options.name ?? parsed?.name ?? 'qemu:///system';
  }

  get isConnected(): boolean {
    return this.conn !== null && !this.conn.isClosed;
  }

  /** Whether the daemon agreed to keepalive on the current connection. */
  get keepaliveNegotiated(): boolean {
    return this.keepaliveActive;
  }

  /** The current RPC connection (diagnostics such as keepalive counters). */
  get connection(): RpcConnection | null {
    return this.conn;
  }

  /**
   * Every call this client sent (setup and event registration included), over all the connections
   * it opened, by procedure name. Counted when sent, whatever the reply.
   */
  rpcCalls(): RpcCallCounts {
    const byProcedure: Record<string, number> = {};
    for (const [proc, n] of this.callCounts) byProcedure[procedureName(proc)] = n;
    return { total: this.callTotal, byProcedure };
  }

  onConnectionEvent(listener: (e: ConnectionEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * One procedure call: encode the args, wait for the reply, decode it completely (trailing bytes
   * mean our layout disagrees with the daemon's and are reported as ProtocolError).
   */
  async call<T = void>(
    procedure: number,
    encode?: (w: XdrWriter) => void,
    decode?: (r: XdrReader) => T,
    params: CallParams = {},
  ): Promise<T> {
    const conn = this.conn;
    if (!conn || conn.isClosed) throw new ConnectionLostError('not connected', false, procedure);
    return this.invoke(conn, procedure, encode, decode, params);
  }

  private async invoke<T>(
    conn: RpcConnection,
    procedure: number,
    encode?: (w: XdrWriter) => void,
    decode?: (r: XdrReader) => T,
    params: CallParams = {},
  ): Promise<T> {
    let args: Buffer | undefined;
    if (encode) {
      const w = new XdrWriter();
      encode(w);
      args = w.toBuffer();
    }
    const timeoutMs = params.timeoutMs ?? this.options.callTimeoutMs ?? 30_000;
    this.callCounts.set(procedure, (this.callCounts.get(procedure) ?? 0) + 1);
    this.callTotal++;
    const payload = await conn.call(procedure, args, { timeoutMs });
    const r = new XdrReader(payload);
    try {
      const result = decode ? decode(r) : (undefined as T);
      r.assertEnd(`the reply to ${procedureName(procedure)}`);
      return result;
    } catch (err) {
      throw new ProtocolError(`cannot decode the reply to ${procedureName(procedure)}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Subscribes to a domain event (all domains, or one). The subscription survives reconnects. */
  async subscribeDomainEvent<K extends TypedDomainEventId>(
    eventId: K,
    handler: (event: DomainEventMap[K]) => void,
    opts: { domain?: DomainRef } = {},
  ): Promise<EventSubscription> {
    const codec = domainEventCodecs[eventId];
    const sub: Subscription = {
      localId: this.nextLocalId++,
      eventId,
      procedure: codec.procedure,
      dom: opts.domain ?? null,
      deliver: (payload) => handler(codec.decode(payload) as DomainEventMap[K]),
      remoteId: null,
    };
    await this.registerRemote(sub);
    this.subs.set(sub.localId, sub);
    return { id: sub.localId, unsubscribe: () => this.unsubscribe(sub.localId) };
  }

  private async unsubscribe(localId: number): Promise<void> {
    const sub = this.subs.get(localId);
    if (!sub) return;
    this.subs.delete(localId);
    if (sub.remoteId === null) return;
    this.byRemoteId.delete(sub.remoteId);
    if (!this.isConnected) return;
    const remoteId = sub.remoteId;
    await this.call(Procedure.ConnectDomainEventCallbackDeregisterAny, (w) => w.writeInt(remoteId));
  }

  private async registerRemote(sub: Subscription, conn: RpcConnection | null = this.conn): Promise<void> {
    if (!conn || conn.isClosed) throw new ConnectionLostError('not connected', false, Procedure.ConnectDomainEventCallbackRegisterAny);
    const remoteId = await this.invoke(
      conn,
      Procedure.ConnectDomainEventCallbackRegisterAny,
      (w) => {
        w.writeInt(sub.eventId);
        writeOptDomain(w, sub.dom);
      },
      (r) => r.readInt(),
    );
    sub.remoteId = remoteId;
    this.byRemoteId.set(remoteId, sub);
  }

  private onEventMessage(msg: EventMessage): void {
    const remoteId = peekCallbackId(msg.payload);
    const sub = remoteId === null ? undefined : this.byRemoteId.get(remoteId);
    if (!sub || sub.procedure !== msg.procedure) return;
    try {
      sub.deliver(msg.payload);
    } catch (err) {
      this.emit({ type: 'event-error', procedure: msg.procedure, error: err as Error });
    }
  }

  /**
   * Opens a fresh connection: socket, auth, CONNECT_OPEN, keepalive, event re-registration.
   * The connection only becomes the client's (and `isConnected` true) once all of that is done.
   */
  protected async establish(): Promise<void> {
    const conn = await RpcConnection.open(this.factory);
    const call = <T>(procedure: number, encode?: (w: XdrWriter) => void, decode?: (r: XdrReader) => T) =>
      this.invoke(conn, procedure, encode, decode);
    try {
      conn.onEvent((m) => this.onEventMessage(m));
      await this.authenticate(call);
      await call(Procedure.ConnectOpen, (w) => {
        writeOptString(w, this.openName);
        w.writeUint(this.options.readOnly ? ConnectFlags.ReadOnly : 0);
      });
      await this.negotiateKeepalive(conn, call);
      this.byRemoteId.clear();
      for (const sub of this.subs.values()) {
        sub.remoteId = null;
        await this.registerRemote(sub, conn);
      }
      if (conn.isClosed) throw new ConnectionLostError('connection dropped during setup', false);
      if (this.closing) throw new ConnectionLostError('client closed during setup', false);
    } catch (err) {
      conn.destroy('connection setup failed');
      throw err;
    }
    this.conn = conn;
    conn.onClose((err) => this.onConnectionLost(conn, err));
  }

  private async authenticate(call: SetupCall): Promise<void> {
    const types = await call(Procedure.AuthList, undefined, (r) => r.readArray((x) => x.readInt(), Limits.AUTH_TYPE_LIST_MAX));
    if (types.length === 0 || types.includes(AuthType.None)) return;
    if (types.includes(AuthType.Polkit)) {
      const complete = await call(Procedure.AuthPolkit, undefined, (r) => r.readInt());
      if (complete) return;
    }
    throw new Error(`libvirtd requires an authentication method this client lacks (offered: ${types.join(', ')}; SASL is not implemented)`);
  }

  private async negotiateKeepalive(conn: RpcConnection, call: SetupCall): Promise<void> {
    this.keepaliveActive = false;
    // Asking is also how the daemon learns that we answer its PINGs: it starts pinging us after.
    const supported = await call(
      Procedure.ConnectSupportsFeature,
      (w) => w.writeInt(DriverFeature.ProgramKeepalive),
      (r) => r.readInt(),
    );
    if (supported !== 1) return;
    this.keepaliveActive = true;
    const ka = this.options.keepalive === undefined ? DEFAULT_KEEPALIVE : this.options.keepalive;
    if (ka) conn.startKeepalive(ka);
  }

  private onConnectionLost(conn: RpcConnection, error: ConnectionLostError): void {
    if (this.conn !== conn) return;
    this.conn = null;
    this.keepaliveActive = false;
    for (const sub of this.subs.values()) sub.remoteId = null;
    this.byRemoteId.clear();
    if (this.closing) return;
    this.emit({ type: 'disconnected', error });
    if (this.options.reconnect) this.reconnecting ??= this.reconnectLoop(this.options.reconnect).finally(() => (this.reconnecting = null));
  }

  private async reconnectLoop(opts: ReconnectOptions): Promise<void> {
    let delay = opts.initialDelayMs ?? 200;
    const maxDelay = opts.maxDelayMs ?? 10_000;
    for (let attempt = 1; !this.closing; attempt++) {
      await new Promise((r) => setTimeout(r, delay));
      if (this.closing) return;
      try {
        await this.establish();
        this.emit({ type: 'reconnected', attempt });
        return;
      } catch (err) {
        this.emit({ type: 'reconnect-failed', attempt, error: err as Error });
        if (opts.maxAttempts !== undefined && attempt >= opts.maxAttempts) {
          this.emit({ type: 'gave-up', attempts: attempt });
          return;
        }
        delay = Math.min(maxDelay, delay * 2);
      }
    }
  }

  /**
   * Reopens a lost connection now (for clients without automatic reconnection). Event
   * subscriptions are registered again; calls that failed are NOT re-sent.
   */
  async reconnect(): Promise<void> {
    if (this.isConnected) return;
    if (this.closing) throw new ConnectionLostError('client closed', false);
    if (this.reconnecting) return this.waitConnected(this.options.connectTimeoutMs ?? 10_000);
    await this.establish();
  }

  /** Resolves once connected (immediately if already), or rejects after `timeoutMs`. */
  async waitConnected(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.isConnected) {
      if (this.closing) throw new ConnectionLostError('client closed', false);
      if (Date.now() >= deadline) throw new ConnectionLostError(`not reconnected within ${timeoutMs} ms`, false);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** CONNECT_CLOSE, then close the socket. Pending calls fail with ConnectionLostError. */
  async close(): Promise<void> {
    this.closing = true;
    const conn = this.conn;
    if (!conn || conn.isClosed) return;
    try {
      await this.call(Procedure.ConnectClose, undefined, undefined, { timeoutMs: 2000 });
    } catch {
      // closing anyway
    }
    await conn.close();
  }

  private emit(e: ConnectionEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch {
        // listeners must not break the client
      }
    }
  }
}
