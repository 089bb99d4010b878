/**
 * A host's libvirt storage as the storage activities see it, in memory: dir pools over
 * directories, where a shared directory is one object two hosts' pools point at. Like libvirt, a
 * pool knows the files of its directory as of its last refresh (plus the volumes created through
 * it), so a file another host created is seen only after a refresh.
 */
import { ErrorCode, LibvirtError, Procedure, type StoragePoolRef, type StorageVolRef } from '../../../activities/libvirt';
import type { StorageClient } from '../../../activities/storage/facts';

export interface FakeFile { capacityBytes: number; allocationBytes: number; format: string }
export class FakeDirectory { readonly files = new Map<string, FakeFile>(); }

interface FakePool { ref: StoragePoolRef; path: string; dir: FakeDirectory; known: Set<string>; availableBytes: number }

const missing = (code: number, message: string, procedure: number) =>
  new LibvirtError({ code, domain: 18, message, level: 2, dom: null, str1: null, str2: null, str3: null, int1: 0, int2: 0 }, procedure);

let uuidSeq = 0;

export class FakeStorageHost implements StorageClient {
  readonly pools: FakePool[] = [];
  /** Every mutating call, in order ('create pool/name', 'delete pool/name', 'refresh pool'). */
  readonly acts: string[] = [];

  addPool(name: string, path: string, dir: FakeDirectory, availableBytes = 10 * 2 ** 30): this {
    const uuid = `00000000-0000-4000-8000-${String(++uuidSeq).padStart(12, '0')}`;
    this.pools.push({ ref: { name, uuid }, path, dir, known: new Set(dir.files.keys()), availableBytes });
    return this;
  }

  private pool(ref: StoragePoolRef | string): FakePool {
    const name = typeof ref === 'string' ? ref : ref.name;
    const p = this.pools.find((x) => x.ref.name === name);
    if (!p) throw missing(ErrorCode.NoStoragePool, `no storage pool with matching name '${name}'`, Procedure.StoragePoolLookupByName);
    return p;
  }

  private vol(p: FakePool, name: string): StorageVolRef {
    if (!p.known.has(name) || !p.dir.files.has(name)) throw missing(ErrorCode.NoStorageVol, `no storage vol with matching name '${name}'`, Procedure.StorageVolLookupByName);
    return { pool: p.ref.name, name, key: `${p.path}/${name}` };
  }

  async storagePoolLookupByTargetPath(path: string) {
    const p = this.pools.find((x) => x.path === path);
    if (!p) throw missing(ErrorCode.NoStoragePool, `no storage pool with matching target path '${path}'`, Procedure.StoragePoolLookupByTargetPath);
    return p.ref;
  }
  async storagePoolLookupByVolume(vol: StorageVolRef) { return this.pool(vol.pool).ref; }
  async storagePoolGetInfo(ref: StoragePoolRef) {
    return { state: 2, capacityBytes: 100 * 2 ** 30, allocationBytes: 0, availableBytes: this.pool(ref).availableBytes };
  }
  async storagePoolRefresh(ref: StoragePoolRef) {
    const p = this.pool(ref);
    this.acts.push(`refresh ${p.ref.name}`);
    p.known = new Set(p.dir.files.keys());
  }
  async storageVolLookupByPath(path: string) {
    const cut = path.lastIndexOf('/');
    const p = this.pools.find((x) => x.path === path.slice(0, cut));
    if (!p) throw missing(ErrorCode.NoStorageVol, `no storage vol with matching path '${path}'`, Procedure.StorageVolLookupByPath);
    return this.vol(p, path.slice(cut + 1));
  }
  async storageVolLookupByName(ref: StoragePoolRef, name: string) { return this.vol(this.pool(ref), name); }
  async storageVolGetInfo(vol: StorageVolRef) {
    const f = this.pool(vol.pool).dir.files.get(vol.name)!;
    return { type: 0, capacityBytes: f.capacityBytes, allocationBytes: f.allocationBytes };
  }
  async storageVolCreateXml(ref: StoragePoolRef, xml: string) {
    const p = this.pool(ref);
    const name = /<name>([^<]+)<\/name>/.exec(xml)![1]!;
    if (p.dir.files.has(name)) throw new LibvirtError({ code: 90, domain: 18, message: `storage volume '${name}' exists already`, level: 2, dom: null, str1: null, str2: null, str3: null, int1: 0, int2: 0 }, Procedure.StorageVolCreateXml);
    const capacityBytes = Number(/<capacity unit='bytes'>(\d+)</.exec(xml)![1]);
    const format = /<format type='([^']+)'/.exec(xml)![1]!;
    p.dir.files.set(name, { capacityBytes, allocationBytes: 0, format });
    p.known.add(name);
    this.acts.push(`create ${p.ref.name}/${name}`);
    return { pool: p.ref.name, name, key: `${p.path}/${name}` };
  }
  async storageVolDelete(vol: StorageVolRef) {
    const p = this.pool(vol.pool);
    if (!p.dir.files.delete(vol.name)) throw missing(ErrorCode.NoStorageVol, `no storage vol '${vol.name}'`, Procedure.StorageVolDelete);
    p.known.delete(vol.name);
    this.acts.push(`delete ${p.ref.name}/${vol.name}`);
  }
}
