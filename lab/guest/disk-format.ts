/**
 * PURE: the on-disk block the lab guest writes with `disk=N` (guest.c, "the disk"), encoded and
 * decoded on the host. One block is 4 KiB = 8 sectors, so a write torn between sectors shows.
 *
 * Layout, little-endian; slot = seq mod slots, the block starts at LBA slot * 8:
 *
 * | offset | size | field |
 * |---|---|---|
 * | 0 | 4 | magic 0x4b534446 ("FDSK" in the file) |
 * | 4 | 4 | version, 1 |
 * | 8 | 4 | boot id of the guest that wrote it |
 * | 12 | 4 | slots in the ring |
 * | 16 | 8 | seq (1, 2, …; 0 is never written) |
 * | 24 | 8 | LBA of the block's first sector |
 * | 32 | 4060 | fill: u32 word i (8 ≤ i < 1023) = diskFill(boot, seq, i) |
 * | 4092 | 4 | FNV-1a 32 of bytes 0..4091 |
 */
export const DISK_BLOCK_BYTES = 4096;
export const DISK_SECTOR_BYTES = 512;
export const DISK_BLOCK_SECTORS = DISK_BLOCK_BYTES / DISK_SECTOR_BYTES;
export const DISK_MAGIC = 0x4b534446;
export const DISK_FORMAT_VERSION = 1;
const WORDS = DISK_BLOCK_BYTES / 4;

/** The fill of word i of block (boot, seq): the same 32-bit mix as guest.c's disk_fill(). */
export function diskFill(boot: number, seq: number, i: number): number {
  const lo = seq >>> 0;
  const hi = Math.floor(seq / 0x1_0000_0000) >>> 0;
  let x = (Math.imul(boot, 0x9e3779b1) ^ Math.imul(lo, 0x85ebca77) ^ Math.imul(hi, 0xc2b2ae3d) ^ i) >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

/** FNV-1a 32 over bytes. */
export function fnv1a32Bytes(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) {
    h ^= b[i]!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The block the guest writes for (boot, seq) in a ring of `slots`: what the image should hold. */
export function encodeDiskBlock(boot: number, seq: number, slots: number): Buffer {
  if (!Number.isSafeInteger(seq) || seq < 1) throw new Error(`seq must be a positive integer, got ${seq}`);
  if (!Number.isInteger(slots) || slots < 1) throw new Error(`slots must be a positive integer, got ${slots}`);
  const b = Buffer.alloc(DISK_BLOCK_BYTES);
  b.writeUInt32LE(DISK_MAGIC, 0);
  b.writeUInt32LE(DISK_FORMAT_VERSION, 4);
  b.writeUInt32LE(boot >>> 0, 8);
  b.writeUInt32LE(slots, 12);
  b.writeBigUInt64LE(BigInt(seq), 16);
  b.writeBigUInt64LE(BigInt((seq % slots) * DISK_BLOCK_SECTORS), 24);
  for (let i = 8; i < WORDS - 1; i++) b.writeUInt32LE(diskFill(boot, seq, i), i * 4);
  b.writeUInt32LE(fnv1a32Bytes(b.subarray(0, DISK_BLOCK_BYTES - 4)), DISK_BLOCK_BYTES - 4);
  return b;
}

/** What one 4 KiB slot of an image holds, read as a guest block (nothing is trusted yet). */
export interface DecodedBlock {
  /** All 4096 bytes are zero: never written. */
  empty: boolean;
  magicOk: boolean;
  /** The checksum over the whole block matches: the block was written whole. */
  checksumOk: boolean;
  version: number;
  boot: number;
  slots: number;
  seq: number;
  lba: number;
}

export function decodeDiskBlock(b: Uint8Array): DecodedBlock {
  if (b.length !== DISK_BLOCK_BYTES) throw new Error(`a disk block is ${DISK_BLOCK_BYTES} bytes, got ${b.length}`);
  const v = Buffer.from(b.buffer, b.byteOffset, b.length);
  return {
    empty: v.every((x) => x === 0),
    magicOk: v.readUInt32LE(0) === DISK_MAGIC,
    checksumOk: fnv1a32Bytes(v.subarray(0, DISK_BLOCK_BYTES - 4)) === v.readUInt32LE(DISK_BLOCK_BYTES - 4),
    version: v.readUInt32LE(4),
    boot: v.readUInt32LE(8),
    slots: v.readUInt32LE(12),
    seq: Number(v.readBigUInt64LE(16)),
    lba: Number(v.readBigUInt64LE(24)),
  };
}

/** For each of the 8 sectors: does it equal the same sector of `expected`? */
export function sectorsEqual(actual: Uint8Array, expected: Uint8Array): boolean[] {
  const out: boolean[] = [];
  for (let s = 0; s < DISK_BLOCK_SECTORS; s++) {
    const a = actual.subarray(s * DISK_SECTOR_BYTES, (s + 1) * DISK_SECTOR_BYTES);
    const e = expected.subarray(s * DISK_SECTOR_BYTES, (s + 1) * DISK_SECTOR_BYTES);
    out.push(Buffer.compare(a, e) === 0);
  }
  return out;
}
