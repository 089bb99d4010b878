/**
 * The storage facts of a guest's disks (model/storage/facts.ts), read through libvirt on both
 * hosts: each disk's volume and pool on the source, the destination's pool of the same directory,
 * and whether that directory is the same storage on both, proven by a probe rather than assumed.
 */
import type { Disk, DiskFacts, Pool, Shared, StorageFacts } from '../../model/storage/facts';
import { directoryOf, probeVolumeName } from '../../model/storage/facts';
import { ErrorCode, isLibvirtError, type LibvirtClient, type StoragePoolRef } from '../libvirt';

/** The part of the client the storage facts use (a fake in tests). */
export type StorageClient = Pick<LibvirtClient,
  | 'storagePoolLookupByTargetPath' | 'storagePoolGetInfo' | 'storagePoolRefresh'
  | 'storageVolLookupByPath' | 'storageVolLookupByName' | 'storageVolGetInfo' | 'storageVolCreateXml' | 'storageVolDelete'>;

/** null when libvirt says the pool or volume does not exist; any other error is thrown (retried). */
export async function unlessMissing<T>(read: Promise<T>): Promise<T | null> {
  try {
    return await read;
  } catch (err) {
    if (isLibvirtError(err) && (err.code === ErrorCode.NoStorageVol || err.code === ErrorCode.NoStoragePool)) return null;
    throw err;
  }
}

export async function storageFacts(src: StorageClient, dst: StorageClient, disks: readonly Disk[], probeId: string): Promise<StorageFacts> {
  const probes = new Map<string, Promise<Shared>>();
  const out: DiskFacts[] = [];
  for (const disk of disks) {
    if (disk.sourcePath === null || (disk.type !== 'file' && disk.type !== 'block')) {
      out.push({ disk, volume: null, sourcePool: null, destinationPool: null, shared: 'unknown' });
      continue;
    }
    const dir = directoryOf(disk.sourcePath);
    // The source's pool of the disk's directory, refreshed: a disk file made outside libvirt
    // (qemu-img, a copy) is a volume of its pool only after a refresh.
    const srcRef = await unlessMissing(src.storagePoolLookupByTargetPath(dir));
    if (srcRef) await src.storagePoolRefresh(srcRef);
    const vol = srcRef ? await unlessMissing(src.storageVolLookupByPath(disk.sourcePath)) : null;
    const volInfo = vol ? await src.storageVolGetInfo(vol) : null;
    const dstRef = await unlessMissing(dst.storagePoolLookupByTargetPath(dir));
    // Refreshed before its room is read: libvirt's pool info is as of its last refresh.
    if (dstRef) await dst.storagePoolRefresh(dstRef);
    const sourcePool = srcRef ? await poolFact(src, srcRef, dir) : null;
    const destinationPool = dstRef ? await poolFact(dst, dstRef, dir) : null;
    let shared: Shared = 'unknown';
    if (srcRef && vol && dstRef) {
      // One probe per directory, however many disks live there.
      if (!probes.has(dir)) probes.set(dir, probeShared(src, srcRef, dst, dstRef, probeVolumeName(probeId)));
      shared = await probes.get(dir)!;
    }
    out.push({
      disk, sourcePool: vol ? sourcePool : null, destinationPool, shared,
      volume: volInfo ? { capacityBytes: volInfo.capacityBytes, allocationBytes: volInfo.allocationBytes } : null,
    });
  }
  return { disks: out };
}

async function poolFact(c: StorageClient, ref: StoragePoolRef, dir: string): Promise<Pool> {
  const info = await c.storagePoolGetInfo(ref);
  return { name: ref.name, path: dir, availableBytes: info.availableBytes };
}

/**
 * Nova's shared-storage test, through libvirt: a small volume created in the destination's pool,
 * the source's pool of the same path refreshed and asked for it. Found: the same storage. The
 * probe is removed whatever happens, and a retry (same probe id) first removes its own leftover.
 */
export async function probeShared(src: StorageClient, srcPool: StoragePoolRef, dst: StorageClient, dstPool: StoragePoolRef, name: string): Promise<Shared> {
  // Refreshed first: a leftover of an attempt before a libvirtd restart is a file the pool may not list.
  await dst.storagePoolRefresh(dstPool);
  await removeProbe(dst, dstPool, name);
  await dst.storageVolCreateXml(dstPool, probeVolumeXml(name));
  try {
    await src.storagePoolRefresh(srcPool);
    return (await unlessMissing(src.storageVolLookupByName(srcPool, name))) ? 'shared' : 'not-shared';
  } finally {
    await removeProbe(dst, dstPool, name);
    // The source's pool listed the probe if it is shared: forget it there too.
    await src.storagePoolRefresh(srcPool).catch(() => undefined);
  }
}

async function removeProbe(c: StorageClient, pool: StoragePoolRef, name: string): Promise<void> {
  const vol = await unlessMissing(c.storageVolLookupByName(pool, name));
  if (vol) await unlessMissing(c.storageVolDelete(vol));
}

function probeVolumeXml(name: string): string {
  return `<volume><name>${name}</name><capacity unit='bytes'>4096</capacity><allocation unit='bytes'>0</allocation>` +
    `<target><format type='raw'/></target></volume>`;
}
