/**
 * The storage procedures of libvirt's RPC protocol (pools and volumes), one typed method each,
 * with the wire structs of src/remote/remote_protocol.x (remote_nonnull_storage_pool/_vol).
 * A layer of its own between the core and LibvirtClient: disks are a concern apart from domains.
 */
import { LibvirtClientCore, type CallParams } from './client-core';
import { Procedure } from './protocol';
import { readNonnullString, readUuid, safeNumber, writeNonnullString, writeUuid } from './remote-types';
import type { XdrReader, XdrWriter } from './xdr';

/** remote_nonnull_storage_pool: how a pool is named on the wire. */
export interface StoragePoolRef {
  name: string;
  uuid: string;
}

/** remote_nonnull_storage_vol: a volume names its pool, its own name and its key (a path for `dir` pools). */
export interface StorageVolRef {
  pool: string;
  name: string;
  key: string;
}

/** virStoragePoolGetInfo, in bytes; `state` is one of StoragePoolState. */
export interface StoragePoolInfo {
  state: number;
  capacityBytes: number;
  allocationBytes: number;
  availableBytes: number;
}

/** virStorageVolGetInfo, in bytes; `type` is one of StorageVolType. */
export interface StorageVolInfo {
  type: number;
  capacityBytes: number;
  allocationBytes: number;
}

export function writePool(w: XdrWriter, p: StoragePoolRef): void {
  writeNonnullString(w, p.name);
  writeUuid(w, p.uuid);
}

export function readPool(r: XdrReader): StoragePoolRef {
  const name = readNonnullString(r);
  return { name, uuid: readUuid(r) };
}

export function writeVol(w: XdrWriter, v: StorageVolRef): void {
  writeNonnullString(w, v.pool);
  writeNonnullString(w, v.name);
  writeNonnullString(w, v.key);
}

export function readVol(r: XdrReader): StorageVolRef {
  const pool = readNonnullString(r);
  const name = readNonnullString(r);
  return { pool, name, key: readNonnullString(r) };
}

const bytes = (r: XdrReader, what: string) => safeNumber(r.readUhyper(), what);

export class LibvirtStorageCalls extends LibvirtClientCore {
  /** The active pool whose target directory is `path` (VIR_ERR_NO_STORAGE_POOL when none). */
  storagePoolLookupByTargetPath(path: string, p?: CallParams): Promise<StoragePoolRef> {
    return this.call(Procedure.StoragePoolLookupByTargetPath, (w) => writeNonnullString(w, path), readPool, p);
  }

  storagePoolLookupByName(name: string, p?: CallParams): Promise<StoragePoolRef> {
    return this.call(Procedure.StoragePoolLookupByName, (w) => writeNonnullString(w, name), readPool, p);
  }

  storagePoolLookupByVolume(vol: StorageVolRef, p?: CallParams): Promise<StoragePoolRef> {
    return this.call(Procedure.StoragePoolLookupByVolume, (w) => writeVol(w, vol), readPool, p);
  }

  storagePoolGetInfo(pool: StoragePoolRef, p?: CallParams): Promise<StoragePoolInfo> {
    return this.call(
      Procedure.StoragePoolGetInfo,
      (w) => writePool(w, pool),
      // `unsigned char state`: rpcgen encodes a char as a 4-byte XDR int.
      (r) => ({ state: r.readUint(), capacityBytes: bytes(r, 'capacity'), allocationBytes: bytes(r, 'allocation'), availableBytes: bytes(r, 'available') }),
      p,
    );
  }

  /** Rescans the pool's directory: a file another host created there becomes a volume here. */
  storagePoolRefresh(pool: StoragePoolRef, flags = 0, p?: CallParams): Promise<void> {
    return this.call(Procedure.StoragePoolRefresh, (w) => { writePool(w, pool); w.writeUint(flags); }, undefined, p);
  }

  /** The volume whose path is `path` (VIR_ERR_NO_STORAGE_VOL when no pool knows it). */
  storageVolLookupByPath(path: string, p?: CallParams): Promise<StorageVolRef> {
    return this.call(Procedure.StorageVolLookupByPath, (w) => writeNonnullString(w, path), readVol, p);
  }

  storageVolLookupByName(pool: StoragePoolRef, name: string, p?: CallParams): Promise<StorageVolRef> {
    return this.call(Procedure.StorageVolLookupByName, (w) => { writePool(w, pool); writeNonnullString(w, name); }, readVol, p);
  }

  storageVolGetInfo(vol: StorageVolRef, p?: CallParams): Promise<StorageVolInfo> {
    return this.call(
      Procedure.StorageVolGetInfo,
      (w) => writeVol(w, vol),
      // `char type`: a 4-byte XDR int on the wire.
      (r) => ({ type: r.readInt(), capacityBytes: bytes(r, 'capacity'), allocationBytes: bytes(r, 'allocation') }),
      p,
    );
  }

  storageVolGetXmlDesc(vol: StorageVolRef, flags = 0, p?: CallParams): Promise<string> {
    return this.call(Procedure.StorageVolGetXmlDesc, (w) => { writeVol(w, vol); w.writeUint(flags); }, readNonnullString, p);
  }

  storageVolCreateXml(pool: StoragePoolRef, xml: string, flags = 0, p?: CallParams): Promise<StorageVolRef> {
    return this.call(
      Procedure.StorageVolCreateXml,
      (w) => { writePool(w, pool); writeNonnullString(w, xml); w.writeUint(flags); },
      readVol,
      p,
    );
  }

  storageVolDelete(vol: StorageVolRef, flags = 0, p?: CallParams): Promise<void> {
    return this.call(Procedure.StorageVolDelete, (w) => { writeVol(w, vol); w.writeUint(flags); }, undefined, p);
  }
}
