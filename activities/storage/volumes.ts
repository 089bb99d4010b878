/**
 * The volumes of a block migration. Before the start, the destination volume of each copied disk
 * is created empty (same name, format and capacity; QEMU's mirror fills it). Which volumes ferry
 * created is recorded where it cannot be lost with a worker: a marker volume in the same pool,
 * named by the migration id, created BEFORE the volume. So a roll-back removes a volume only when
 * its marker says this migration made it — never a volume that was there before — and a retry
 * after a crash between the two finds the marker and finishes the job.
 */
import type { DiskCopy } from '../../model/storage/activity-io';
import type { StoragePoolRef } from '../libvirt';
import { unlessMissing, type StorageClient } from './facts';

/** The marker of a volume this migration created (a hidden file of its pool's directory). */
export function createdMarkerName(migrationId: string, volumeName: string): string {
  return `.ferry-created-${migrationId}-${volumeName}`;
}

const xmlText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');

export function volumeXml(name: string, format: string, capacityBytes: number): string {
  return `<volume><name>${xmlText(name)}</name><capacity unit='bytes'>${capacityBytes}</capacity>` +
    `<allocation unit='bytes'>0</allocation><target><format type='${xmlText(format)}'/></target></volume>`;
}

async function poolOf(c: StorageClient, copy: DiskCopy): Promise<StoragePoolRef> {
  const pool = await unlessMissing(c.storagePoolLookupByTargetPath(copy.sourcePath.slice(0, copy.sourcePath.lastIndexOf('/')) || '/'));
  if (!pool) throw new Error(`the destination has no storage pool '${copy.pool}' for ${copy.sourcePath} any more`);
  // Refreshed: a file put there outside libvirt must be seen, so it is never taken for ours or overwritten.
  await c.storagePoolRefresh(pool);
  return pool;
}

/**
 * Creates each destination volume unless this migration created it already. A volume of that name
 * without this migration's marker is someone's data: refused, never overwritten.
 */
export async function createDestinationVolumes(c: StorageClient, migrationId: string, copies: readonly DiskCopy[]): Promise<string[]> {
  const steps: string[] = [];
  for (const copy of copies) {
    const pool = await poolOf(c, copy);
    const marker = createdMarkerName(migrationId, copy.volumeName);
    const hasMarker = (await unlessMissing(c.storageVolLookupByName(pool, marker))) !== null;
    const existing = await unlessMissing(c.storageVolLookupByName(pool, copy.volumeName));
    if (existing && hasMarker) {
      steps.push(`${copy.volumeName} in pool '${pool.name}': created by this migration already`);
      continue;
    }
    if (existing) {
      throw new ExistingVolumeError(`the destination's pool '${pool.name}' already has a volume ${copy.volumeName} that this migration did not create: ` +
        'ferry never copies over it; remove or rename it there, or migrate elsewhere');
    }
    if (!hasMarker) await c.storageVolCreateXml(pool, volumeXml(marker, 'raw', 4096));
    await c.storageVolCreateXml(pool, volumeXml(copy.volumeName, copy.format, copy.capacityBytes));
    steps.push(`created ${copy.volumeName} (${copy.format}, ${copy.capacityBytes} bytes) in pool '${pool.name}' for disk ${copy.target}`);
  }
  return steps;
}

export class ExistingVolumeError extends Error {
  override readonly name = 'ExistingVolumeError';
}

/**
 * Roll-back: removes the destination volumes this migration created (its markers say which), then
 * the markers. A volume without the marker is left alone. Idempotent.
 */
export async function removeCreatedVolumes(c: StorageClient, migrationId: string, copies: readonly DiskCopy[]): Promise<string[]> {
  const steps: string[] = [];
  for (const copy of copies) {
    const pool = await poolOf(c, copy);
    const marker = await unlessMissing(c.storageVolLookupByName(pool, createdMarkerName(migrationId, copy.volumeName)));
    if (!marker) continue;
    const vol = await unlessMissing(c.storageVolLookupByName(pool, copy.volumeName));
    if (vol) {
      await unlessMissing(c.storageVolDelete(vol));
      steps.push(`removed ${copy.volumeName} from the destination's pool '${pool.name}' (created by this migration)`);
    }
    await unlessMissing(c.storageVolDelete(marker));
  }
  return steps;
}

/** After a success: the destination volumes are the guest's disks now; only the markers go. */
export async function dropCreatedMarkers(c: StorageClient, migrationId: string, copies: readonly DiskCopy[]): Promise<void> {
  for (const copy of copies) {
    const pool = await poolOf(c, copy);
    const marker = await unlessMissing(c.storageVolLookupByName(pool, createdMarkerName(migrationId, copy.volumeName)));
    if (marker) await unlessMissing(c.storageVolDelete(marker));
  }
}

/**
 * After a success both hosts agreed on (the guard's 'clean-source'): the source volumes of the
 * copied disks, which the guest no longer uses. Idempotent: a volume already gone is done.
 */
export async function removeSourceVolumes(c: StorageClient, copies: readonly DiskCopy[]): Promise<string[]> {
  const steps: string[] = [];
  for (const copy of copies) {
    const vol = await unlessMissing(c.storageVolLookupByPath(copy.sourcePath));
    if (!vol) continue;
    await unlessMissing(c.storageVolDelete(vol));
    steps.push(`removed the source volume ${copy.sourcePath}`);
  }
  return steps;
}
