/** Wire types shared by many procedures: strings, UUIDs and domain references. */
import { Limits } from './protocol';
import { XdrError, type XdrReader, type XdrWriter } from './xdr';

/** remote_nonnull_domain: how a domain is named on the wire. `id` is -1 when it is not running. */
export interface DomainRef {
  name: string;
  /** Canonical lower-case UUID text, e.g. "5b3c7f3e-2f0e-4a54-9d1c-0f00d0000001". */
  uuid: string;
  id: number;
}

export function uuidToBytes(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new XdrError(`not a UUID: "${uuid}"`);
  return Buffer.from(hex, 'hex');
}

export function uuidFromBytes(bytes: Buffer): string {
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export function writeNonnullString(w: XdrWriter, s: string): void {
  w.writeString(s, Limits.STRING_MAX);
}

export function readNonnullString(r: XdrReader): string {
  return r.readString(Limits.STRING_MAX);
}

/** remote_string: an optional (nullable) string. */
export function writeOptString(w: XdrWriter, s: string | null | undefined): void {
  w.writeOptional(s, writeNonnullString);
}

export function readOptString(r: XdrReader): string | null {
  return r.readOptional(readNonnullString);
}

export function writeUuid(w: XdrWriter, uuid: string): void {
  w.writeFixedOpaque(uuidToBytes(uuid), Limits.UUID_BYTES);
}

export function readUuid(r: XdrReader): string {
  return uuidFromBytes(r.readFixedOpaque(Limits.UUID_BYTES));
}

export function writeDomain(w: XdrWriter, dom: DomainRef): void {
  writeNonnullString(w, dom.name);
  writeUuid(w, dom.uuid);
  w.writeInt(dom.id);
}

export function readDomain(r: XdrReader): DomainRef {
  const name = readNonnullString(r);
  const uuid = readUuid(r);
  const id = r.readInt();
  return { name, uuid, id };
}

/** remote_domain: an optional domain (used by event registration to mean "all domains"). */
export function writeOptDomain(w: XdrWriter, dom: DomainRef | null | undefined): void {
  w.writeOptional(dom, writeDomain);
}

export function readOptDomain(r: XdrReader): DomainRef | null {
  return r.readOptional(readDomain);
}

/** remote_nonnull_network: only decoded to skip it inside remote_error. */
export function readNetwork(r: XdrReader): { name: string; uuid: string } {
  const name = readNonnullString(r);
  const uuid = readUuid(r);
  return { name, uuid };
}

/** Converts an unsigned hyper to a number, refusing values a double cannot hold exactly. */
export function safeNumber(v: bigint, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new XdrError(`${what} = ${v} does not fit a JavaScript number`);
  }
  return Number(v);
}

/** libvirt's version numbers: major * 1,000,000 + minor * 1,000 + release. */
export interface Version {
  major: number;
  minor: number;
  release: number;
  /** The packed number as libvirt returns it, e.g. 9000000 for 9.0.0. */
  packed: number;
  text: string;
}

export function decodeVersion(packed: number): Version {
  const major = Math.floor(packed / 1_000_000);
  const minor = Math.floor((packed % 1_000_000) / 1000);
  const release = packed % 1000;
  return { major, minor, release, packed, text: `${major}.${minor}.${release}` };
}
