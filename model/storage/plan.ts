/**
 * PURE: what happens to each disk of a migrating guest, decided from facts (facts.ts) and the
 * policy, never from a flag alone: a disk on storage both hosts see is left where it is
 * ('shared'), a disk on one host's own storage is copied by libvirt's non-shared-disk migration
 * ('copy'), a disk the policy names is left out ('excluded'). Anything that would make the move
 * fail or lose data is a refusal naming the disk and the reason, found before anything moves.
 */
import type { DiskFacts, StorageFacts } from './facts';

export interface StoragePolicy {
  /** Target devs (vda, sdb...) never copied: the operator vouches the destination has them. */
  excludeDisks: readonly string[];
  /** Room kept free in a destination pool beyond what the copies need, in % of what they need. */
  freeSpaceMarginPct: number;
}

export type DiskAction = 'shared' | 'copy' | 'excluded';

export interface DiskPlan {
  target: string;
  action: DiskAction;
  /** Why, in words for the decision record. */
  reason: string;
  /** For 'copy': where the destination volume goes and what it must be. */
  copy?: { sourcePath: string; pool: string; volumeName: string; format: string; capacityBytes: number; allocationBytes: number };
  /** A file or block disk ferry's probe found on both hosts (not a network disk: libvirt knows those are shared). */
  provenShared?: boolean;
}

export interface StoragePlan {
  disks: DiskPlan[];
  /** Empty when the migration may go ahead; else one line per disk that stops it. */
  refusals: string[];
  /** Target devs libvirt copies (its migrate_disks parameter); empty: no block migration. */
  copyTargets: string[];
  /** Bytes the copies move (the allocations of the copied volumes): the disk part of the progress. */
  copyBytes: number;
  /**
   * Target devs of file disks ferry's probe proved shared. libvirt judges shared storage by the
   * filesystem's type (NFS, GFS2, OCFS2, Ceph...) and refuses a shared directory it does not
   * recognise as "unsafe"; for these the start passes VIR_MIGRATE_UNSAFE, ferry's facts vouching.
   */
  provenShared: string[];
}

/** Host cache modes that bypass the host page cache: the only ones under which two hosts may share a file. */
export const CACHE_MODES_SAFE_WHEN_SHARED: readonly string[] = ['none', 'directsync'];

/** Formats ferry creates a destination volume in (libvirt's dir pools make both). */
export const COPYABLE_FORMATS: readonly string[] = ['raw', 'qcow2'];

export function planStorage(facts: StorageFacts, policy: StoragePolicy): StoragePlan {
  const disks: DiskPlan[] = [];
  const refusals: string[] = [];
  for (const f of facts.disks) {
    const decided = planDisk(f, policy);
    if ('refusal' in decided) refusals.push(`disk ${f.disk.target}: ${decided.refusal}`);
    else disks.push(decided);
  }
  refusals.push(...roomRefusals(disks, facts, policy));
  const copies = disks.filter((d) => d.action === 'copy');
  return {
    disks, refusals,
    copyTargets: copies.map((d) => d.target),
    copyBytes: copies.reduce((sum, d) => sum + (d.copy?.allocationBytes ?? 0), 0),
    // Only when nothing is refused: a plan with refusals never starts.
    provenShared: disks.filter((d) => d.provenShared).map((d) => d.target),
  };
}

function planDisk(f: DiskFacts, policy: StoragePolicy): DiskPlan | { refusal: string } {
  const { disk } = f;
  const target = disk.target;
  if (policy.excludeDisks.includes(target)) {
    return { target, action: 'excluded', reason: 'excluded by the policy (storage.excludeDisks): not copied, the destination must have it' };
  }
  if (disk.type === 'network') return { target, action: 'shared', reason: 'a network disk: both hosts reach the same storage server' };
  if (disk.sourcePath === null) return { target, action: 'excluded', reason: `an empty ${disk.device} drive: nothing to move` };
  if (f.shared === 'shared') {
    // Both QEMUs have the file open around the switch-over: a host page cache on either side could
    // hand the destination stale blocks. libvirt refuses the same; ferry says it before anything moves.
    if (!CACHE_MODES_SAFE_WHEN_SHARED.includes(disk.cache ?? 'default')) {
      return { refusal: `${disk.sourcePath} is on shared storage with host cache mode '${disk.cache ?? 'default (writeback)'}': the destination could read stale blocks; use cache='none' or 'directsync'` };
    }
    return { target, action: 'shared', reason: `${disk.sourcePath} is on storage both hosts see (probe found)`, provenShared: true };
  }
  if (disk.type !== 'file') {
    return { refusal: `${disk.sourcePath} is a ${disk.type} disk on storage the destination does not share: ferry copies only file disks; put it on shared storage or exclude it (storage.excludeDisks)` };
  }
  if (f.shared === 'unknown') {
    // No probe could be made: whether the file is shared is not known, so neither leaving it nor copying it is safe.
    return f.sourcePool === null
      ? { refusal: `${disk.sourcePath} is in no libvirt storage pool on the source, so whether the destination shares it cannot be proven: define a dir pool of its directory on both hosts, or exclude it (storage.excludeDisks)` }
      : { refusal: `the destination has no storage pool with target path ${f.sourcePool.path} (where ${disk.sourcePath} is on the source): define one (a dir pool of that path), or exclude the disk (storage.excludeDisks)` };
  }
  if (disk.shareable) return { refusal: `${disk.sourcePath} is shareable (other guests may write it): a copy would split it; put it on shared storage` };
  if (disk.readonly || disk.device === 'cdrom') {
    return { refusal: `${disk.sourcePath} is a read-only ${disk.device} on local storage, which libvirt does not copy: put it on shared storage, or exclude it (storage.excludeDisks) when the destination has the same file` };
  }
  const format = disk.format ?? 'raw';
  if (!COPYABLE_FORMATS.includes(format)) {
    return { refusal: `format '${format}' of ${disk.sourcePath} is not one ferry copies (${COPYABLE_FORMATS.join(', ')})` };
  }
  if (f.volume === null || f.sourcePool === null) {
    return { refusal: `${disk.sourcePath} is not a volume of a storage pool on the source: its size is unknown` };
  }
  if (f.destinationPool === null) {
    return { refusal: `the destination has no storage pool with target path ${f.sourcePool.path} to copy ${disk.sourcePath} into: define one (a dir pool of that path)` };
  }
  return {
    target, action: 'copy',
    reason: `${disk.sourcePath} is on the source's own storage: copied into the destination's pool '${f.destinationPool.name}'`,
    copy: {
      sourcePath: disk.sourcePath, pool: f.destinationPool.name, volumeName: disk.sourcePath.slice(disk.sourcePath.lastIndexOf('/') + 1),
      format, capacityBytes: f.volume.capacityBytes, allocationBytes: f.volume.allocationBytes,
    },
  };
}

/**
 * Room in each destination pool for every copy into it, with the margin. The allocation (what the
 * source volume holds), not the capacity: the copy writes what the guest wrote, and qcow2 or a
 * sparse raw file grows with it. Several disks into one pool count together.
 */
function roomRefusals(disks: readonly DiskPlan[], facts: StorageFacts, policy: StoragePolicy): string[] {
  const needByPool = new Map<string, { need: number; targets: string[] }>();
  for (const d of disks) {
    if (!d.copy) continue;
    const entry = needByPool.get(d.copy.pool) ?? { need: 0, targets: [] };
    entry.need += d.copy.allocationBytes;
    entry.targets.push(d.target);
    needByPool.set(d.copy.pool, entry);
  }
  const refusals: string[] = [];
  for (const [pool, { need, targets }] of needByPool) {
    const available = facts.disks.find((f) => f.destinationPool?.name === pool)?.destinationPool?.availableBytes ?? 0;
    const withMargin = need + Math.ceil((need * policy.freeSpaceMarginPct) / 100);
    if (withMargin > available) {
      refusals.push(
        `disk ${targets.join(', ')}: not enough room in the destination's pool '${pool}': the copy needs ${mib(need)} MiB ` +
          `(+${policy.freeSpaceMarginPct} % margin: ${mib(withMargin)} MiB), ${mib(available)} MiB are available; free space there or choose another host`,
      );
    }
  }
  return refusals;
}

const mib = (bytes: number) => Math.ceil(bytes / 2 ** 20);
