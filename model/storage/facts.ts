/**
 * PURE: what ferry knows of a guest's disks before it moves them, as facts the activities report
 * (activities/storage/*) and the plan decides from (plan.ts). zod schemas: they cross the
 * activity boundary into the workflow's history.
 */
import { z } from 'zod';

/** One <disk> of the domain's XML, as libvirt describes it. */
export const DiskSchema = z.strictObject({
  /** <target dev>: vda, sdb... the name libvirt's migrate_disks takes. */
  target: z.string().min(1),
  /** <disk device>: disk, cdrom, floppy, lun. */
  device: z.string().min(1),
  /** <disk type>: file, block, network, volume, dir... */
  type: z.string().min(1),
  /** The file (or device) path for file and block disks; null for an empty drive or a network disk. */
  sourcePath: z.string().nullable(),
  /** <driver type>: raw, qcow2...; null when the XML does not say. */
  format: z.string().nullable(),
  readonly: z.boolean(),
  shareable: z.boolean(),
  /** <driver cache>: none, directsync, writeback...; null when the XML does not say (QEMU's default, writeback). */
  cache: z.string().nullable().optional(),
});
export type Disk = z.infer<typeof DiskSchema>;

/** A libvirt storage pool as one host sees it, and how much room it has. */
export const PoolSchema = z.strictObject({
  name: z.string().min(1),
  /** Its target directory. */
  path: z.string().min(1),
  availableBytes: z.number().int().min(0),
});
export type Pool = z.infer<typeof PoolSchema>;

/**
 * Whether the disk's directory is the same storage on both hosts, from the probe (Nova's
 * shared-instance-path test done through libvirt: a volume created in the destination's pool is
 * looked for in the source's pool of the same path after a refresh). 'unknown' when no probe
 * could be made (no pool of that path on one of the hosts).
 */
export const SharedSchema = z.enum(['shared', 'not-shared', 'unknown']);
export type Shared = z.infer<typeof SharedSchema>;

export const DiskFactsSchema = z.strictObject({
  disk: DiskSchema,
  /** The volume behind sourcePath on the source (null: no source pool knows the file). */
  volume: z.strictObject({ capacityBytes: z.number().int().min(0), allocationBytes: z.number().int().min(0) }).nullable(),
  sourcePool: PoolSchema.nullable(),
  /** The destination's pool with the same target directory as the disk's (null: none). */
  destinationPool: PoolSchema.nullable(),
  shared: SharedSchema,
});
export type DiskFacts = z.infer<typeof DiskFactsSchema>;

export const StorageFactsSchema = z.strictObject({ disks: z.array(DiskFactsSchema) });
export type StorageFacts = z.infer<typeof StorageFactsSchema>;

/** The directory a disk file lives in: the target path of the pool that should hold it. */
export function directoryOf(file: string): string {
  const cut = file.lastIndexOf('/');
  return cut <= 0 ? '/' : file.slice(0, cut);
}

export function fileNameOf(file: string): string {
  return file.slice(file.lastIndexOf('/') + 1);
}

/**
 * The probe volume's name in a pool: named by the migration id (a retry finds its own probe, two
 * migrations never share one), and a name no guest disk would carry.
 */
export function probeVolumeName(migrationId: string): string {
  return `.ferry-shared-probe-${migrationId.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
}
