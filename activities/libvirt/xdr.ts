/**
 * XDR (RFC 4506) encoding as libvirt's rpcgen-generated code uses it: big-endian, every item
 * padded to a multiple of 4 bytes, 64-bit integers ("hyper") carried as bigint so that no
 * precision is lost on the wire.
 */

export class XdrError extends Error {
  override name = 'XdrError';
}

const MAX_UINT32 = 0xffff_ffff;

function padLength(n: number): number {
  return (4 - (n % 4)) % 4;
}

export class XdrWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialSize = 256) {
    this.buf = Buffer.alloc(initialSize);
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + extra) size *= 2;
    const next = Buffer.alloc(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  get length(): number {
    return this.pos;
  }

  writeInt(v: number): this {
    if (!Number.isInteger(v) || v < -0x8000_0000 || v > 0x7fff_ffff) throw new XdrError(`int out of range: ${v}`);
    this.ensure(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  writeUint(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > MAX_UINT32) throw new XdrError(`unsigned int out of range: ${v}`);
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  writeHyper(v: bigint | number): this {
    const b = BigInt(v);
    if (b < -(1n << 63n) || b >= 1n << 63n) throw new XdrError(`hyper out of range: ${b}`);
    this.ensure(8);
    this.buf.writeBigInt64BE(b, this.pos);
    this.pos += 8;
    return this;
  }

  writeUhyper(v: bigint | number): this {
    const b = BigInt(v);
    if (b < 0n || b >= 1n << 64n) throw new XdrError(`unsigned hyper out of range: ${b}`);
    this.ensure(8);
    this.buf.writeBigUInt64BE(b, this.pos);
    this.pos += 8;
    return this;
  }

  writeBool(v: boolean): this {
    return this.writeInt(v ? 1 : 0);
  }

  writeDouble(v: number): this {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
    return this;
  }

  /** Fixed-length opaque: exactly `length` bytes, then padding. */
  writeFixedOpaque(data: Uint8Array, length: number): this {
    if (data.length !== length) throw new XdrError(`fixed opaque needs ${length} bytes, got ${data.length}`);
    this.writeRaw(data);
    return this;
  }

  /** Variable-length opaque: uint length, bytes, padding. */
  writeVarOpaque(data: Uint8Array, maxLength = MAX_UINT32): this {
    if (data.length > maxLength) throw new XdrError(`opaque of ${data.length} bytes exceeds limit ${maxLength}`);
    this.writeUint(data.length);
    this.writeRaw(data);
    return this;
  }

  writeString(s: string, maxLength = MAX_UINT32): this {
    const bytes = Buffer.from(s, 'utf8');
    if (bytes.length > maxLength) throw new XdrError(`string of ${bytes.length} bytes exceeds limit ${maxLength}`);
    return this.writeVarOpaque(bytes);
  }

  /** Variable-length array: uint count, then each element. */
  writeArray<T>(items: readonly T[], writeItem: (w: this, item: T) => void, maxLength = MAX_UINT32): this {
    if (items.length > maxLength) throw new XdrError(`array of ${items.length} items exceeds limit ${maxLength}`);
    this.writeUint(items.length);
    for (const item of items) writeItem(this, item);
    return this;
  }

  /** Optional data (`T *field`): a bool "present" discriminant, then the value when present. */
  writeOptional<T>(value: T | null | undefined, writeValue: (w: this, v: T) => void): this {
    if (value === null || value === undefined) return this.writeBool(false);
    this.writeBool(true);
    writeValue(this, value);
    return this;
  }

  private writeRaw(data: Uint8Array): void {
    const pad = padLength(data.length);
    this.ensure(data.length + pad);
    this.buf.set(data, this.pos);
    this.pos += data.length;
    this.buf.fill(0, this.pos, this.pos + pad);
    this.pos += pad;
  }

  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

export class XdrReader {
  private pos = 0;

  constructor(private readonly buf: Buffer) {}

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) {
      throw new XdrError(`truncated XDR data: need ${n} bytes for ${what} at offset ${this.pos}, have ${this.remaining}`);
    }
  }

  readInt(): number {
    this.need(4, 'int');
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  readUint(): number {
    this.need(4, 'unsigned int');
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  readHyper(): bigint {
    this.need(8, 'hyper');
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  readUhyper(): bigint {
    this.need(8, 'unsigned hyper');
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  readBool(): boolean {
    const v = this.readInt();
    if (v !== 0 && v !== 1) throw new XdrError(`invalid XDR bool ${v} at offset ${this.pos - 4}`);
    return v === 1;
  }

  readDouble(): number {
    this.need(8, 'double');
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }

  readFixedOpaque(length: number): Buffer {
    return this.readRaw(length, 'fixed opaque');
  }

  readVarOpaque(maxLength = MAX_UINT32): Buffer {
    const length = this.readUint();
    if (length > maxLength) throw new XdrError(`opaque length ${length} exceeds limit ${maxLength}`);
    return this.readRaw(length, 'opaque');
  }

  readString(maxLength = MAX_UINT32): string {
    return this.readVarOpaque(maxLength).toString('utf8');
  }

  readArray<T>(readItem: (r: this) => T, maxLength = MAX_UINT32): T[] {
    const count = this.readUint();
    if (count > maxLength) throw new XdrError(`array length ${count} exceeds limit ${maxLength}`);
    // Every XDR item takes at least 4 bytes: refuse counts the remaining data cannot hold.
    if (count > this.remaining / 4) throw new XdrError(`array length ${count} larger than the remaining data`);
    const items: T[] = [];
    for (let i = 0; i < count; i++) items.push(readItem(this));
    return items;
  }

  readOptional<T>(readValue: (r: this) => T): T | null {
    return this.readBool() ? readValue(this) : null;
  }

  /** Throws unless every byte was consumed: trailing data means our layout is wrong. */
  assertEnd(what = 'message'): void {
    if (this.remaining !== 0) throw new XdrError(`${this.remaining} unexpected trailing bytes after ${what}`);
  }

  private readRaw(length: number, what: string): Buffer {
    const pad = padLength(length);
    this.need(length + pad, what);
    const out = Buffer.from(this.buf.subarray(this.pos, this.pos + length));
    this.pos += length + pad;
    return out;
  }
}
