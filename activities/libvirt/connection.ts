/**
 * One RPC connection to libvirtd: calls multiplexed by serial, replies matched by serial,
 * MESSAGE frames (events) handed to subscribers, keepalive answered (and optionally sent).
 * It never retries anything: a lost socket fails every outstanding call with ConnectionLostError.
 */
import type { Socket } from 'node:net';
import { CallTimeoutError, ConnectionLostError, LibvirtError, ProtocolError, decodeRemoteError } from './errors';
import { encodePacket, PacketDecoder, type Packet } from './framing';
import {
  KEEPALIVE_PROGRAM,
  KEEPALIVE_PROTOCOL_VERSION,
  KeepaliveProcedure,
  MessageStatus,
  MessageType,
  REMOTE_PROGRAM,
  REMOTE_PROTOCOL_VERSION,
} from './protocol';
import { XdrReader } from './xdr';

/** Opens a connected byte stream to the daemon (unix socket, TCP, or TLS over TCP). */
export type SocketFactory = () => Promise<Socket>;

export interface CallOptions {
  /** Deadline for the reply; 0 or undefined = the connection default (which may be none). */
  timeoutMs?: number;
  program?: number;
  version?: number;
}

export interface KeepaliveOptions {
  /** Send a PING after this long without hearing from the daemon. */
  intervalMs: number;
  /** Declare the connection dead after this many intervals of silence. */
  count: number;
}

export interface RpcConnectionOptions {
  /** Default per-call deadline in ms; undefined = wait forever (long calls such as a migration). */
  defaultTimeoutMs?: number;
}

/** An unsolicited MESSAGE frame of the remote program (a libvirt event). */
export interface EventMessage {
  procedure: number;
  payload: Buffer;
}

interface PendingCall {
  procedure: number;
  resolve: (payload: Buffer) => void;
  reject: (err: Error) => void;
  timer?: NodeJS.Timeout;
  written: boolean;
}

export class RpcConnection {
  private nextSerial = 1;
  private readonly pending = new Map<number, PendingCall>();
  private readonly decoder = new PacketDecoder();
  private readonly eventHandlers = new Set<(msg: EventMessage) => void>();
  private readonly closeHandlers = new Set<(err: ConnectionLostError) => void>();
  private readonly eventQueue: EventMessage[] = [];
  private eventFlushScheduled = false;
  private keepaliveTimer?: NodeJS.Timeout;
  private lastReceivedAt = Date.now();
  private closedWith: ConnectionLostError | null = null;
  /** PINGs received from the daemon and PONGs sent back, for diagnostics. */
  readonly stats = { pingsReceived: 0, pongsReceived: 0, pingsSent: 0 };

  constructor(
    private readonly socket: Socket,
    private readonly options: RpcConnectionOptions = {},
  ) {
    socket.setNoDelay?.(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // A TLS socket comes paused after libvirtd's confirmation byte (uri.ts): flow from here.
    socket.resume();
    socket.on('error', (err) => this.fail(`socket error: ${err.message}`, err));
    socket.on('close', () => this.fail('socket closed'));
  }

  static async open(factory: SocketFactory, options?: RpcConnectionOptions): Promise<RpcConnection> {
    return new RpcConnection(await factory(), options);
  }

  get isClosed(): boolean {
    return this.closedWith !== null;
  }

  get pendingCalls(): number {
    return this.pending.size;
  }

  /** Sends one call and resolves with the reply's XDR payload, or rejects with LibvirtError etc. */
  call(procedure: number, args: Buffer = Buffer.alloc(0), opts: CallOptions = {}): Promise<Buffer> {
    if (this.closedWith) {
      return Promise.reject(new ConnectionLostError(this.closedWith.reason, false, procedure));
    }
    const serial = this.nextSerial;
    this.nextSerial = this.nextSerial >= 0x7fff_ffff ? 1 : this.nextSerial + 1;
    const packet = encodePacket(
      {
        program: opts.program ?? REMOTE_PROGRAM,
        version: opts.version ?? REMOTE_PROTOCOL_VERSION,
        procedure,
        type: MessageType.Call,
        serial,
        status: MessageStatus.Ok,
      },
      args,
    );
    return new Promise<Buffer>((resolve, reject) => {
      const call: PendingCall = { procedure, resolve, reject, written: false };
      const timeoutMs = opts.timeoutMs || this.options.defaultTimeoutMs;
      if (timeoutMs) {
        call.timer = setTimeout(() => {
          // Forget the serial: a late reply is dropped. The daemon may still run the call.
          this.pending.delete(serial);
          reject(new CallTimeoutError(procedure, timeoutMs));
        }, timeoutMs);
      }
      this.pending.set(serial, call);
      // From here the bytes may reach the daemon even if write() later reports an error.
      call.written = true;
      this.socket.write(packet);
    });
  }

  /** Subscribes to events (MESSAGE frames of the remote program). Returns an unsubscribe function. */
  onEvent(handler: (msg: EventMessage) => void): () => void {
    this.eventHandlers.add(handler);
    return () => this.eventHandlers.delete(handler);
  }

  /** Called once when the connection ends, for whatever reason. */
  onClose(handler: (err: ConnectionLostError) => void): () => void {
    if (this.closedWith) {
      const err = this.closedWith;
      queueMicrotask(() => handler(err));
    } else {
      this.closeHandlers.add(handler);
    }
    return () => this.closeHandlers.delete(handler);
  }

  /**
   * Sends PINGs when the daemon has been silent for `intervalMs` and declares the connection dead
   * after `count` silent intervals. Only start it once the daemon said it supports keepalive.
   */
  startKeepalive({ intervalMs, count }: KeepaliveOptions): void {
    this.stopKeepalive();
    this.lastReceivedAt = Date.now();
    const tick = Math.max(10, Math.floor(intervalMs / 2));
    this.keepaliveTimer = setInterval(() => {
      const silentMs = Date.now() - this.lastReceivedAt;
      if (silentMs >= intervalMs * count) {
        this.destroy(`no keepalive response for ${silentMs} ms (${count} x ${intervalMs} ms)`);
      } else if (silentMs >= intervalMs) {
        this.sendKeepalive(KeepaliveProcedure.Ping);
        this.stats.pingsSent++;
      }
    }, tick);
    this.keepaliveTimer.unref();
  }

  stopKeepalive(): void {
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = undefined;
  }

  /** Closes the socket. Outstanding calls fail with ConnectionLostError (they may have executed). */
  async close(): Promise<void> {
    if (this.closedWith) return;
    const closed = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
    this.fail('connection closed by the client');
    this.socket.end();
    const timer = setTimeout(() => this.socket.destroy(), 1000);
    await closed;
    clearTimeout(timer);
  }

  /** Tears the connection down at once. */
  destroy(reason: string, cause?: unknown): void {
    this.fail(reason, cause);
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.lastReceivedAt = Date.now();
    let packets: Packet[];
    try {
      packets = this.decoder.push(chunk);
    } catch (err) {
      this.destroy(`unreadable data from the daemon: ${(err as Error).message}`, err);
      return;
    }
    for (const packet of packets) {
      try {
        this.dispatch(packet);
      } catch (err) {
        this.destroy(`cannot handle a packet from the daemon: ${(err as Error).message}`, err);
        return;
      }
    }
  }

  private dispatch({ header, payload }: Packet): void {
    if (header.program === KEEPALIVE_PROGRAM) {
      if (header.type !== MessageType.Message) return;
      if (header.procedure === KeepaliveProcedure.Ping) {
        this.stats.pingsReceived++;
        this.sendKeepalive(KeepaliveProcedure.Pong);
      } else if (header.procedure === KeepaliveProcedure.Pong) {
        this.stats.pongsReceived++;
      }
      return;
    }
    if (header.program !== REMOTE_PROGRAM) return; // another program's traffic: not ours
    if (header.type === MessageType.Message) {
      this.queueEvent({ procedure: header.procedure, payload });
      return;
    }
    if (header.type !== MessageType.Reply && header.type !== MessageType.ReplyWithFds) return;
    const call = this.pending.get(header.serial);
    if (!call) return; // a reply after its call timed out
    this.pending.delete(header.serial);
    if (call.timer) clearTimeout(call.timer);
    if (header.procedure !== call.procedure) {
      call.reject(new ProtocolError(`reply for serial ${header.serial} names procedure ${header.procedure}, expected ${call.procedure}`));
      return;
    }
    if (header.status === MessageStatus.Ok) {
      call.resolve(payload);
    } else if (header.status === MessageStatus.Error) {
      try {
        call.reject(new LibvirtError(decodeRemoteError(new XdrReader(payload)), call.procedure));
      } catch (err) {
        call.reject(new ProtocolError(`undecodable error reply: ${(err as Error).message}`));
      }
    } else {
      call.reject(new ProtocolError(`unexpected reply status ${header.status}`));
    }
  }

  /**
   * Events are delivered on a later macrotask, in arrival order, so that the continuation of a
   * call whose reply arrived in the same chunk (e.g. the callback registration) runs first.
   */
  private queueEvent(msg: EventMessage): void {
    this.eventQueue.push(msg);
    if (this.eventFlushScheduled) return;
    this.eventFlushScheduled = true;
    setImmediate(() => {
      this.eventFlushScheduled = false;
      const batch = this.eventQueue.splice(0);
      for (const m of batch) {
        for (const handler of [...this.eventHandlers]) {
          try {
            handler(m);
          } catch {
            // a subscriber's bug must not break the connection
          }
        }
      }
    });
  }

  private sendKeepalive(procedure: number): void {
    if (this.closedWith) return;
    this.socket.write(
      encodePacket({
        program: KEEPALIVE_PROGRAM,
        version: KEEPALIVE_PROTOCOL_VERSION,
        procedure,
        type: MessageType.Message,
        serial: 0,
        status: MessageStatus.Ok,
      }),
    );
  }

  private fail(reason: string, cause?: unknown): void {
    if (this.closedWith) return;
    const err = new ConnectionLostError(reason, false, undefined, { cause });
    this.closedWith = err;
    this.stopKeepalive();
    for (const [serial, call] of this.pending) {
      this.pending.delete(serial);
      if (call.timer) clearTimeout(call.timer);
      call.reject(new ConnectionLostError(reason, call.written, call.procedure, { cause }));
    }
    for (const handler of [...this.closeHandlers]) {
      try {
        handler(err);
      } catch {
        // ignore subscriber errors
      }
    }
    this.closeHandlers.clear();
  }
}
