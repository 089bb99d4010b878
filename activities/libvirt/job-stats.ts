/**
 * virDomainGetJobStats results (and the job-completed event's parameters) as a typed object.
 * Field names are the VIR_DOMAIN_JOB_* typed-parameter names of libvirt-domain.h.
 */
import { JobType, nameOf } from './constants';
import type { TypedParam, TypedParamValue } from './typed-params';

export const JobField = {
  Operation: 'operation',
  TimeElapsed: 'time_elapsed',
  TimeElapsedNet: 'time_elapsed_net',
  TimeRemaining: 'time_remaining',
  Downtime: 'downtime',
  DowntimeNet: 'downtime_net',
  SetupTime: 'setup_time',
  DataTotal: 'data_total',
  DataProcessed: 'data_processed',
  DataRemaining: 'data_remaining',
  MemoryTotal: 'memory_total',
  MemoryProcessed: 'memory_processed',
  MemoryRemaining: 'memory_remaining',
  MemoryConstant: 'memory_constant',
  MemoryNormal: 'memory_normal',
  MemoryNormalBytes: 'memory_normal_bytes',
  MemoryBps: 'memory_bps',
  MemoryDirtyRate: 'memory_dirty_rate',
  MemoryPageSize: 'memory_page_size',
  MemoryIteration: 'memory_iteration',
  MemoryPostcopyRequests: 'memory_postcopy_requests',
  DiskTotal: 'disk_total',
  DiskProcessed: 'disk_processed',
  DiskRemaining: 'disk_remaining',
  DiskBps: 'disk_bps',
  CompressionCache: 'compression_cache',
  CompressionBytes: 'compression_bytes',
  CompressionPages: 'compression_pages',
  CompressionCacheMisses: 'compression_cache_misses',
  CompressionOverflow: 'compression_overflow',
  AutoConvergeThrottle: 'auto_converge_throttle',
  Success: 'success',
  ErrMsg: 'errmsg',
  DiskTempUsed: 'disk_temp_used',
  DiskTempTotal: 'disk_temp_total',
} as const;

/**
 * Times in milliseconds, sizes in bytes, rates in bytes/s, dirty rate in pages/s. 64-bit counters
 * are converted to numbers (exact below 8 PiB). Absent statistics are undefined.
 */
export interface JobStats {
  type: number;
  typeName: string;
  operation?: number;
  operationName?: string;
  timeElapsedMs?: number;
  timeElapsedNetMs?: number;
  timeRemainingMs?: number;
  downtimeMs?: number;
  downtimeNetMs?: number;
  setupTimeMs?: number;
  dataTotal?: number;
  dataProcessed?: number;
  dataRemaining?: number;
  memoryTotal?: number;
  memoryProcessed?: number;
  memoryRemaining?: number;
  memoryConstant?: number;
  memoryNormal?: number;
  memoryNormalBytes?: number;
  memoryBps?: number;
  memoryDirtyRate?: number;
  memoryPageSize?: number;
  memoryIteration?: number;
  memoryPostcopyRequests?: number;
  diskTotal?: number;
  diskProcessed?: number;
  diskRemaining?: number;
  diskBps?: number;
  compressionCache?: number;
  compressionBytes?: number;
  compressionPages?: number;
  compressionCacheMisses?: number;
  compressionOverflow?: number;
  autoConvergeThrottle?: number;
  diskTempUsed?: number;
  diskTempTotal?: number;
  success?: boolean;
  errmsg?: string;
  /** Every parameter as received, including ones this version does not name. */
  raw: Record<string, TypedParamValue>;
}

const numericFields: ReadonlyArray<[keyof JobStats, string]> = [
  ['operation', JobField.Operation],
  ['timeElapsedMs', JobField.TimeElapsed],
  ['timeElapsedNetMs', JobField.TimeElapsedNet],
  ['timeRemainingMs', JobField.TimeRemaining],
  ['downtimeMs', JobField.Downtime],
  ['downtimeNetMs', JobField.DowntimeNet],
  ['setupTimeMs', JobField.SetupTime],
  ['dataTotal', JobField.DataTotal],
  ['dataProcessed', JobField.DataProcessed],
  ['dataRemaining', JobField.DataRemaining],
  ['memoryTotal', JobField.MemoryTotal],
  ['memoryProcessed', JobField.MemoryProcessed],
  ['memoryRemaining', JobField.MemoryRemaining],
  ['memoryConstant', JobField.MemoryConstant],
  ['memoryNormal', JobField.MemoryNormal],
  ['memoryNormalBytes', JobField.MemoryNormalBytes],
  ['memoryBps', JobField.MemoryBps],
  ['memoryDirtyRate', JobField.MemoryDirtyRate],
  ['memoryPageSize', JobField.MemoryPageSize],
  ['memoryIteration', JobField.MemoryIteration],
  ['memoryPostcopyRequests', JobField.MemoryPostcopyRequests],
  ['diskTotal', JobField.DiskTotal],
  ['diskProcessed', JobField.DiskProcessed],
  ['diskRemaining', JobField.DiskRemaining],
  ['diskBps', JobField.DiskBps],
  ['compressionCache', JobField.CompressionCache],
  ['compressionBytes', JobField.CompressionBytes],
  ['compressionPages', JobField.CompressionPages],
  ['compressionCacheMisses', JobField.CompressionCacheMisses],
  ['compressionOverflow', JobField.CompressionOverflow],
  ['autoConvergeThrottle', JobField.AutoConvergeThrottle],
  ['diskTempUsed', JobField.DiskTempUsed],
  ['diskTempTotal', JobField.DiskTempTotal],
];

const OPERATION_NAMES: Record<number, string> = {
  0: 'unknown', 1: 'start', 2: 'save', 3: 'restore', 4: 'migration_in', 5: 'migration_out',
  6: 'snapshot', 7: 'snapshot_revert', 8: 'dump', 9: 'backup', 10: 'snapshot_delete',
};

export function parseJobStats(type: number, params: readonly TypedParam[]): JobStats {
  const raw: Record<string, TypedParamValue> = {};
  for (const p of params) raw[p.field] = p.value;
  const stats: JobStats = { type, typeName: nameOf(JobType, type), raw };
  const out = stats as unknown as Record<string, unknown>;
  for (const [key, field] of numericFields) {
    const v = raw[field];
    if (typeof v === 'number') out[key] = v;
    else if (typeof v === 'bigint') out[key] = Number(v);
  }
  if (stats.operation !== undefined) stats.operationName = OPERATION_NAMES[stats.operation] ?? `unknown(${stats.operation})`;
  const success = raw[JobField.Success];
  if (typeof success === 'boolean') stats.success = success;
  const errmsg = raw[JobField.ErrMsg];
  if (typeof errmsg === 'string') stats.errmsg = errmsg;
  return stats;
}
