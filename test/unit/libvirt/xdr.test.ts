import { describe, expect, it } from 'vitest';
import { XdrError, XdrReader, XdrWriter } from '../../../activities/libvirt/xdr';

const hex = (b: Buffer) => b.toString('hex');
const bytes = (fn: (w: XdrWriter) => void) => {
  const w = new XdrWriter(4); // small initial size: exercises growth
  fn(w);
  return hex(w.toBuffer());
};

describe('XDR known byte vectors (RFC 4506)', () => {
  it('encodes integers big-endian in 4 or 8 bytes', () => {
    expect(bytes((w) => w.writeInt(1))).toBe('00000001');
    expect(bytes((w) => w.writeInt(-1))).toBe('ffffffff');
    expect(bytes((w) => w.writeInt(-2147483648))).toBe('80000000');
    expect(bytes((w) => w.writeUint(0xdeadbeef))).toBe('deadbeef');
    expect(bytes((w) => w.writeHyper(-2n))).toBe('fffffffffffffffe');
    expect(bytes((w) => w.writeUhyper(2n ** 64n - 1n))).toBe('ffffffffffffffff');
    expect(bytes((w) => w.writeUhyper(0x0102030405060708n))).toBe('0102030405060708');
  });

  it('encodes bool as an int and double as IEEE 754', () => {
    expect(bytes((w) => w.writeBool(true).writeBool(false))).toBe('0000000100000000');
    expect(bytes((w) => w.writeDouble(1.5))).toBe('3ff8000000000000');
  });

  it('pads strings and opaque data to a multiple of 4 with zeros', () => {
    expect(bytes((w) => w.writeString(''))).toBe('00000000');
    expect(bytes((w) => w.writeString('abc'))).toBe('0000000361626300');
    expect(bytes((w) => w.writeString('abcd'))).toBe('0000000461626364');
    expect(bytes((w) => w.writeString('abcde'))).toBe('000000056162636465000000');
    expect(bytes((w) => w.writeString('é'))).toBe('00000002c3a90000'); // length in bytes, not chars
    expect(bytes((w) => w.writeFixedOpaque(Buffer.from([1, 2, 3, 4, 5]), 5))).toBe('0102030405000000');
    expect(bytes((w) => w.writeVarOpaque(Buffer.from([9])))).toBe('0000000109000000');
  });

  it('encodes optional data with a bool discriminant and arrays with a count', () => {
    expect(bytes((w) => w.writeOptional<string>(null, (x, s) => x.writeString(s)))).toBe('00000000');
    expect(bytes((w) => w.writeOptional('a', (x, s) => x.writeString(s)))).toBe('000000010000000161000000');
    expect(bytes((w) => w.writeArray([7, 8], (x, v) => x.writeInt(v)))).toBe('000000020000000700000008');
  });
});

describe('XDR round trips', () => {
  it('reads back what it wrote, in order', () => {
    const w = new XdrWriter();
    w.writeInt(-42).writeUint(4294967295).writeHyper(-(2n ** 63n)).writeUhyper(2n ** 63n + 5n);
    w.writeBool(true).writeDouble(-0.25).writeString('héllo wörld').writeFixedOpaque(Buffer.alloc(16, 0xab), 16);
    w.writeVarOpaque(Buffer.from('xyz')).writeOptional<number>(null, (x, v) => x.writeInt(v)).writeOptional(5, (x, v) => x.writeInt(v));
    w.writeArray(['a', 'bb', 'ccc'], (x, s) => x.writeString(s));
    const buf = w.toBuffer();
    expect(buf.length % 4).toBe(0);
    const r = new XdrReader(buf);
    expect(r.readInt()).toBe(-42);
    expect(r.readUint()).toBe(4294967295);
    expect(r.readHyper()).toBe(-(2n ** 63n));
    expect(r.readUhyper()).toBe(2n ** 63n + 5n);
    expect(r.readBool()).toBe(true);
    expect(r.readDouble()).toBe(-0.25);
    expect(r.readString()).toBe('héllo wörld');
    expect(r.readFixedOpaque(16)).toEqual(Buffer.alloc(16, 0xab));
    expect(r.readVarOpaque().toString()).toBe('xyz');
    expect(r.readOptional((x) => x.readInt())).toBeNull();
    expect(r.readOptional((x) => x.readInt())).toBe(5);
    expect(r.readArray((x) => x.readString())).toEqual(['a', 'bb', 'ccc']);
    expect(() => r.assertEnd()).not.toThrow();
  });
});

describe('XDR validation', () => {
  it('refuses values outside the type range', () => {
    const w = new XdrWriter();
    expect(() => w.writeInt(2 ** 31)).toThrow(XdrError);
    expect(() => w.writeUint(-1)).toThrow(XdrError);
    expect(() => w.writeInt(1.5)).toThrow(XdrError);
    expect(() => w.writeUhyper(-1n)).toThrow(XdrError);
    expect(() => w.writeHyper(2n ** 63n)).toThrow(XdrError);
    expect(() => w.writeString('toolong', 3)).toThrow(XdrError);
    expect(() => w.writeFixedOpaque(Buffer.alloc(3), 4)).toThrow(XdrError);
    expect(() => w.writeArray([1, 2, 3], (x, v) => x.writeInt(v), 2)).toThrow(XdrError);
  });

  it('reports truncated data, bad bools, absurd counts and trailing bytes', () => {
    expect(() => new XdrReader(Buffer.from('000000', 'hex')).readInt()).toThrow(/truncated/);
    expect(() => new XdrReader(Buffer.from('0000000561', 'hex')).readString()).toThrow(/truncated/);
    expect(() => new XdrReader(Buffer.from('00000002', 'hex')).readBool()).toThrow(/bool/);
    expect(() => new XdrReader(Buffer.from('7fffffff', 'hex')).readArray((x) => x.readInt())).toThrow(XdrError);
    expect(() => new XdrReader(Buffer.from('00000005', 'hex')).readArray((x) => x.readInt(), 4)).toThrow(/limit/);
    expect(() => new XdrReader(Buffer.from('0000000800', 'hex')).readVarOpaque(4)).toThrow(/limit/);
    const r = new XdrReader(Buffer.from('0000000100000002', 'hex'));
    r.readInt();
    expect(() => r.assertEnd()).toThrow(/trailing/);
  });
});
