/**
 * Packet framing of libvirt's RPC protocol: a 4-byte big-endian length that counts itself,
 * a 24-byte header, then the XDR payload.
 */
import { HEADER_BYTES, LENGTH_WORD_BYTES, MESSAGE_MAX, type MessageStatus, type MessageType } from './protocol';

export interface PacketHeader {
  program: number;
  version: number;
  procedure: number;
  type: MessageType;
  serial: number;
  status: MessageStatus;
}

export interface Packet {
  header: PacketHeader;
  payload: Buffer;
}

export class FramingError extends Error {
  override name = 'FramingError';
}

/** Largest total packet (length word included) accepted in either direction. */
export const MAX_PACKET_BYTES = MESSAGE_MAX + LENGTH_WORD_BYTES;
const MIN_PACKET_BYTES = LENGTH_WORD_BYTES + HEADER_BYTES;

export function encodePacket(header: PacketHeader, payload: Buffer = Buffer.alloc(0)): Buffer {
  const total = MIN_PACKET_BYTES + payload.length;
  if (total > MAX_PACKET_BYTES) throw new FramingError(`packet of ${total} bytes exceeds libvirt's limit of ${MAX_PACKET_BYTES}`);
  const out = Buffer.alloc(total);
  out.writeUInt32BE(total, 0);
  out.writeUInt32BE(header.program, 4);
  out.writeUInt32BE(header.version, 8);
  out.writeInt32BE(header.procedure, 12);
  out.writeInt32BE(header.type, 16);
  out.writeUInt32BE(header.serial, 20);
  out.writeInt32BE(header.status, 24);
  payload.copy(out, MIN_PACKET_BYTES);
  return out;
}

function decodeHeader(packet: Buffer): PacketHeader {
  return {
    program: packet.readUInt32BE(4),
    version: packet.readUInt32BE(8),
    procedure: packet.readInt32BE(12),
    type: packet.readInt32BE(16) as MessageType,
    serial: packet.readUInt32BE(20),
    status: packet.readInt32BE(24) as MessageStatus,
  };
}

/**
 * Turns a byte stream into packets, whatever the chunking: a packet split over many chunks,
 * several packets in one chunk, or both. A length outside libvirt's limits poisons the stream
 * (there is no way to resynchronise), so the decoder throws and refuses further input.
 */
export class PacketDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private failed: FramingError | null = null;

  constructor(private readonly maxPacketBytes = MAX_PACKET_BYTES) {}

  get bufferedBytes(): number {
    return this.buffered;
  }

  push(chunk: Buffer): Packet[] {
    if (this.failed) throw this.failed;
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const packets: Packet[] = [];
    while (this.buffered >= LENGTH_WORD_BYTES) {
      const length = this.peekLength();
      if (length < MIN_PACKET_BYTES || length > this.maxPacketBytes) {
        this.failed = new FramingError(
          `invalid packet length ${length} (allowed ${MIN_PACKET_BYTES}..${this.maxPacketBytes})`,
        );
        throw this.failed;
      }
      if (this.buffered < length) break;
      const packet = this.take(length);
      packets.push({ header: decodeHeader(packet), payload: packet.subarray(MIN_PACKET_BYTES) });
    }
    return packets;
  }

  private peekLength(): number {
    const first = this.chunks[0]!;
    if (first.length >= LENGTH_WORD_BYTES) return first.readUInt32BE(0);
    return this.coalesce().readUInt32BE(0);
  }

  /** Joins all buffered chunks into one (only done when a whole packet or the length word is needed). */
  private coalesce(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
    return this.chunks[0]!;
  }

  private take(length: number): Buffer {
    const first = this.chunks[0]!;
    const source = first.length >= length ? first : this.coalesce();
    const packet = source.subarray(0, length);
    const rest = source.subarray(length);
    this.chunks.shift();
    if (rest.length > 0) this.chunks.unshift(rest);
    this.buffered -= length;
    return packet;
  }
}
