/** Flag values of the libvirt APIs this client calls (include/libvirt/libvirt-domain.h). */

/** virConnectOpen flags. */
export const ConnectFlags = {
  ReadOnly: 1 << 0,
} as const;

/** virDomainMigrateFlags. */
export const MigrateFlags = {
  Live: 1 << 0,
  Peer2Peer: 1 << 1,
  Tunnelled: 1 << 2,
  PersistDest: 1 << 3,
  UndefineSource: 1 << 4,
  Paused: 1 << 5,
  NonSharedDisk: 1 << 6,
  NonSharedInc: 1 << 7,
  ChangeProtection: 1 << 8,
  Unsafe: 1 << 9,
  Offline: 1 << 10,
  Compressed: 1 << 11,
  AbortOnError: 1 << 12,
  AutoConverge: 1 << 13,
  RdmaPinAll: 1 << 14,
  Postcopy: 1 << 15,
  Tls: 1 << 16,
  Parallel: 1 << 17,
  NonSharedSynchronousWrites: 1 << 18,
  PostcopyResume: 1 << 19,
  Zerocopy: 1 << 20,
} as const;

/** virDomainMigrateMaxSpeedFlags (also accepted by MigrateGetMaxSpeed). */
export const MigrateMaxSpeedFlags = {
  Postcopy: 1 << 0,
} as const;

/** virDomainXMLFlags for virDomainGetXMLDesc. */
export const DomainXmlFlags = {
  Secure: 1 << 0,
  Inactive: 1 << 1,
  UpdateCpu: 1 << 2,
  Migratable: 1 << 3,
} as const;

/** virDomainDefineFlags. */
export const DomainDefineFlags = {
  Validate: 1 << 0,
} as const;

/** virDomainCreateFlags. */
export const DomainCreateFlags = {
  StartPaused: 1 << 0,
  StartAutodestroy: 1 << 1,
  StartBypassCache: 1 << 2,
  StartForceBoot: 1 << 3,
  StartValidate: 1 << 4,
} as const;

/** virDomainDestroyFlagsValues. */
export const DomainDestroyFlags = {
  Graceful: 1 << 0,
} as const;

/** virDomainUndefineFlagsValues. */
export const DomainUndefineFlags = {
  ManagedSave: 1 << 0,
  SnapshotsMetadata: 1 << 1,
  Nvram: 1 << 2,
  KeepNvram: 1 << 3,
  CheckpointsMetadata: 1 << 4,
  Tpm: 1 << 5,
  KeepTpm: 1 << 6,
} as const;

/** virConnectListAllDomainsFlags. */
export const ListAllDomainsFlags = {
  Active: 1 << 0,
  Inactive: 1 << 1,
  Persistent: 1 << 2,
  Transient: 1 << 3,
  Running: 1 << 4,
  Paused: 1 << 5,
  Shutoff: 1 << 6,
  Other: 1 << 7,
} as const;

/** virDomainGetJobStatsFlags. */
export const JobStatsFlags = {
  Completed: 1 << 0,
  KeepCompleted: 1 << 1,
} as const;

/** virDomainAbortJobFlagsValues. */
export const AbortJobFlags = {
  Postcopy: 1 << 0,
} as const;

/** virDomainGetStateFlags: none defined. virDomainMigrateStartPostCopy flags: none defined. */

/** virConnectCompareCPUFlags. */
export const CompareCpuFlags = {
  FailIncompatible: 1 << 0,
  ValidateXml: 1 << 1,
} as const;

/** virCPUCompareResult. */
export const CpuCompareResult = {
  Error: -1,
  Incompatible: 0,
  Identical: 1,
  Superset: 2,
} as const;

/** virDomainJobType. */
export const JobType = {
  None: 0,
  Bounded: 1,
  Unbounded: 2,
  Completed: 3,
  Failed: 4,
  Cancelled: 5,
} as const;
export type JobType = (typeof JobType)[keyof typeof JobType];

/** virDomainJobOperation (the "operation" job statistic). */
export const JobOperation = {
  Unknown: 0,
  Start: 1,
  Save: 2,
  Restore: 3,
  MigrationIn: 4,
  MigrationOut: 5,
  Snapshot: 6,
  SnapshotRevert: 7,
  Dump: 8,
  Backup: 9,
  SnapshotDelete: 10,
} as const;

/** Reverse lookup: value -> key of one of the const tables above. */
export function nameOf(table: Record<string, number>, value: number): string {
  for (const [k, v] of Object.entries(table)) if (v === value) return k;
  return `unknown(${value})`;
}

/** Names of the bits set in `flags`, e.g. ["Live", "Peer2Peer"]; unknown bits as numbers. */
export function flagNames(table: Record<string, number>, flags: number): string[] {
  const out: string[] = [];
  let rest = flags;
  for (const [k, v] of Object.entries(table)) {
    if (v !== 0 && (flags & v) === v) {
      out.push(k);
      rest &= ~v;
    }
  }
  if (rest) out.push(`0x${rest.toString(16)}`);
  return out;
}

/** virDomainStatsTypes: the groups virConnectGetAllDomainStats reports (only those ferry reads). */
export const DomainStatsTypes = {
  /** balloon.*: balloon.rss is QEMU's resident set (KiB), reported with or without a balloon driver. */
  Balloon: 1 << 2,
  /** dirtyrate.*: the result of the last virDomainStartDirtyRateCalc. */
  DirtyRate: 1 << 9,
} as const;

/** virDomainDirtyRateStatus (dirtyrate.calc_status). */
export const DirtyRateStatus = {
  Unstarted: 0,
  Measuring: 1,
  Measured: 2,
} as const;

/** virStoragePoolState (virStoragePoolGetInfo). */
export const StoragePoolState = {
  Inactive: 0,
  Building: 1,
  Running: 2,
  Degraded: 3,
  Inaccessible: 4,
} as const;

/** virStorageVolType (virStorageVolGetInfo). */
export const StorageVolType = {
  File: 0,
  Block: 1,
  Dir: 2,
  Network: 3,
  Netdir: 4,
  Ploop: 5,
} as const;
