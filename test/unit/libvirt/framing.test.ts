import { describe, expect, it } from 'vitest';
import { encodePacket, FramingError, MAX_PACKET_BYTES, PacketDecoder } from '../../../activities/libvirt/framing';
import { MessageStatus, MessageType, REMOTE_PROGRAM } from '../../../activities/libvirt/protocol';

const header = (serial: number, procedure = 59) => ({
  program: REMOTE_PROGRAM,
  version: 1,
  procedure,
  type: MessageType.Call,
  serial,
  status: MessageStatus.Ok,
});

describe('packet framing', () => {
  it('writes the length (counting itself) and the six header words', () => {
    const p = encodePacket(header(7, 23), Buffer.from('00000001', 'hex'));
    expect(p.toString('hex')).toBe(
      '00000020' + '20008086' + '00000001' + '00000017' + '00000000' + '00000007' + '00000000' + '00000001',
    );
  });

  it('decodes a packet delivered one byte at a time', () => {
    const payload = Buffer.from('hello world, split into bytes');
    const packet = encodePacket({ ...header(42), type: MessageType.Reply, status: MessageStatus.Error }, payload);
    const d = new PacketDecoder();
    const out = [];
    for (let i = 0; i < packet.length; i++) {
      const got = d.push(packet.subarray(i, i + 1));
      if (i < packet.length - 1) expect(got).toEqual([]);
      out.push(...got);
    }
    expect(out).toHaveLength(1);
    expect(out[0]!.header).toEqual({ program: REMOTE_PROGRAM, version: 1, procedure: 59, type: 1, serial: 42, status: 1 });
    expect(out[0]!.payload.toString()).toBe(payload.toString());
    expect(d.bufferedBytes).toBe(0);
  });

  it('decodes several packets merged in one chunk, and a partial tail across chunks', () => {
    const packets = [1, 2, 3, 4].map((s) => encodePacket(header(s), Buffer.alloc(s * 4, s)));
    const all = Buffer.concat(packets);
    const d = new PacketDecoder();
    const cut = packets[0]!.length + packets[1]!.length + packets[2]!.length + 5;
    const first = d.push(all.subarray(0, cut));
    expect(first.map((p) => p.header.serial)).toEqual([1, 2, 3]);
    const second = d.push(all.subarray(cut));
    expect(second.map((p) => p.header.serial)).toEqual([4]);
    expect(second[0]!.payload).toEqual(Buffer.alloc(16, 4));
  });

  it('handles the length word itself being split', () => {
    const packet = encodePacket(header(9), Buffer.alloc(8, 1));
    const d = new PacketDecoder();
    expect(d.push(packet.subarray(0, 2))).toEqual([]);
    expect(d.push(packet.subarray(2, 3))).toEqual([]);
    expect(d.push(packet.subarray(3)).map((p) => p.header.serial)).toEqual([9]);
  });

  it('rejects lengths above libvirt\'s maximum and below a header, and stays failed', () => {
    const huge = Buffer.alloc(4);
    huge.writeUInt32BE(MAX_PACKET_BYTES + 1);
    const d = new PacketDecoder();
    expect(() => d.push(huge)).toThrow(FramingError);
    expect(() => d.push(encodePacket(header(1)))).toThrow(FramingError);

    const tiny = Buffer.alloc(4);
    tiny.writeUInt32BE(27);
    expect(() => new PacketDecoder().push(tiny)).toThrow(/invalid packet length 27/);
  });

  it('accepts a packet of exactly the maximum size and refuses to encode a bigger one', () => {
    const payload = Buffer.alloc(MAX_PACKET_BYTES - 28);
    const packet = encodePacket(header(1), payload);
    expect(packet.length).toBe(MAX_PACKET_BYTES);
    expect(new PacketDecoder().push(packet)).toHaveLength(1);
    expect(() => encodePacket(header(1), Buffer.alloc(payload.length + 1))).toThrow(FramingError);
  });
});
