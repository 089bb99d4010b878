/**
 * A fake libvirtd for unit tests: a unix-socket server in a temp dir that speaks libvirt's
 * framing. Tests script the replies; the handshake procedures get sensible defaults.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { encodePacket, PacketDecoder, type Packet } from '../../../activities/libvirt/framing';
import {
  KEEPALIVE_PROGRAM,
  KEEPALIVE_PROTOCOL_VERSION,
  MessageStatus,
  MessageType,
  Procedure,
  REMOTE_PROGRAM,
  REMOTE_PROTOCOL_VERSION,
} from '../../../activities/libvirt/protocol';
import { writeDomain, type DomainRef } from '../../../activities/libvirt/remote-types';
import { XdrReader, XdrWriter } from '../../../activities/libvirt/xdr';

export interface FakeCall {
  conn: FakeConnection;
  serial: number;
  procedure: number;
  args: Buffer;
  reply(payload?: Buffer): void;
  replyError(e: { code: number; domain: number; message: string }): void;
}

export type CallHandler = (call: FakeCall) => void | 'default';

export class FakeConnection {
  readonly received: Packet[] = [];

  constructor(readonly socket: net.Socket) {}

  send(packet: Buffer): void {
    this.socket.write(packet);
  }

  sendEvent(procedure: number, payload: Buffer): void {
    this.send(eventPacket(procedure, payload));
  }

  sendPing(): void {
    this.send(
      encodePacket({ program: KEEPALIVE_PROGRAM, version: KEEPALIVE_PROTOCOL_VERSION, procedure: 1, type: MessageType.Message, serial: 0, status: MessageStatus.Ok }),
    );
  }

  calls(procedure?: number): Packet[] {
    return this.received.filter(
      (p) => p.header.program === REMOTE_PROGRAM && p.header.type === MessageType.Call && (procedure === undefined || p.header.procedure === procedure),
    );
  }
}

export function replyPacket(procedure: number, serial: number, payload: Buffer = Buffer.alloc(0), status: 0 | 1 = MessageStatus.Ok): Buffer {
  return encodePacket({ program: REMOTE_PROGRAM, version: REMOTE_PROTOCOL_VERSION, procedure, type: MessageType.Reply, serial, status }, payload);
}

export function eventPacket(procedure: number, payload: Buffer): Buffer {
  return encodePacket({ program: REMOTE_PROGRAM, version: REMOTE_PROTOCOL_VERSION, procedure, type: MessageType.Message, serial: 0, status: MessageStatus.Ok }, payload);
}

export function errorPayload(e: { code: number; domain: number; message: string }): Buffer {
  const w = new XdrWriter();
  w.writeInt(e.code).writeInt(e.domain);
  w.writeOptional(e.message, (x, s) => x.writeString(s));
  w.writeInt(2); // level: error
  w.writeBool(false); // dom
  w.writeBool(false).writeBool(false).writeBool(false); // str1..3
  w.writeInt(0).writeInt(0); // int1, int2
  w.writeBool(false); // net
  return w.toBuffer();
}

export function lifecyclePayload(callbackId: number, dom: DomainRef, event: number, detail: number): Buffer {
  const w = new XdrWriter();
  w.writeInt(callbackId);
  writeDomain(w, dom);
  w.writeInt(event).writeInt(detail);
  return w.toBuffer();
}

export class FakeLibvirtd {
  readonly socketPath: string;
  readonly connections: FakeConnection[] = [];
  handler: CallHandler = () => 'default';
  keepaliveSupported = true;
  private server: net.Server;
  private nextCallbackId = 100;
  private dir: string;

  private constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-fake-libvirtd-'));
    this.socketPath = path.join(this.dir, 'libvirt-sock');
    this.server = net.createServer((socket) => this.accept(socket));
  }

  static async start(): Promise<FakeLibvirtd> {
    const s = new FakeLibvirtd();
    await new Promise<void>((resolve) => s.server.listen(s.socketPath, resolve));
    return s;
  }

  get last(): FakeConnection {
    return this.connections[this.connections.length - 1]!;
  }

  /** Drops every client connection abruptly (like a daemon crash or a network cut). */
  dropAll(): void {
    for (const c of this.connections) c.socket.destroy();
  }

  async stop(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private accept(socket: net.Socket): void {
    const conn = new FakeConnection(socket);
    this.connections.push(conn);
    const decoder = new PacketDecoder();
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      for (const packet of decoder.push(chunk)) {
        conn.received.push(packet);
        const h = packet.header;
        if (h.program !== REMOTE_PROGRAM || h.type !== MessageType.Call) continue;
        const call: FakeCall = {
          conn,
          serial: h.serial,
          procedure: h.procedure,
          args: packet.payload,
          reply: (payload) => conn.send(replyPacket(h.procedure, h.serial, payload)),
          replyError: (e) => conn.send(replyPacket(h.procedure, h.serial, errorPayload(e), MessageStatus.Error)),
        };
        if (this.handler(call) === 'default') this.defaultReply(call);
      }
    });
  }

  private defaultReply(call: FakeCall): void {
    const w = new XdrWriter();
    switch (call.procedure) {
      case Procedure.AuthList:
        w.writeArray([0], (x, v) => x.writeInt(v));
        break;
      case Procedure.ConnectSupportsFeature: {
        const feature = new XdrReader(call.args).readInt();
        w.writeInt(feature === 10 && this.keepaliveSupported ? 1 : 0);
        break;
      }
      case Procedure.ConnectDomainEventCallbackRegisterAny:
        w.writeInt(this.nextCallbackId++);
        break;
      case Procedure.ConnectGetHostname:
        w.writeString('fake-host');
        break;
      default:
        break; // ConnectOpen, ConnectClose, deregister...: empty reply
    }
    call.reply(w.toBuffer());
  }
}

export async function waitFor(cond: () => boolean, ms = 2000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
