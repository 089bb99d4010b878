/**
 * The dirtyrate.* group of virConnectGetAllDomainStats, read: whether QEMU's last dirty-rate
 * calculation (virDomainStartDirtyRateCalc) is done and what it measured. libvirt names the field
 * megabytes_per_second; QEMU computes it in MiB/s (page counts times the page size, shifted by 20).
 */
import { DirtyRateStatus } from './constants';
import { numberParam, type TypedParam } from './typed-params';

export interface DirtyRateReading {
  status: 'unstarted' | 'measuring' | 'measured';
  /** Only when measured. */
  mibPerSecond: number | null;
  /** How long the calculation sampled, in seconds (null when libvirt does not say). */
  periodSeconds: number | null;
}

export function dirtyRateFromStats(params: readonly TypedParam[]): DirtyRateReading {
  const status = numberParam(params, 'dirtyrate.calc_status');
  const rate = numberParam(params, 'dirtyrate.megabytes_per_second');
  const period = numberParam(params, 'dirtyrate.calc_period') ?? null;
  if (status === DirtyRateStatus.Measured && rate !== undefined) return { status: 'measured', mibPerSecond: rate, periodSeconds: period };
  return { status: status === DirtyRateStatus.Measuring ? 'measuring' : 'unstarted', mibPerSecond: null, periodSeconds: period };
}

/**
 * balloon.rss of virConnectGetAllDomainStats (KiB), in bytes: the guest RAM QEMU ever touched plus
 * QEMU's own memory. Guest pages never written are not resident and migrate as zero pages; null
 * when libvirt does not report it.
 */
export function residentBytesFromStats(params: readonly TypedParam[]): number | null {
  const kib = numberParam(params, 'balloon.rss');
  return kib === undefined ? null : kib * 1024;
}

/** The guest's RAM (bytes) from the balloon stats (`balloon.maximum`, else `balloon.current`, KiB); null when not reported. */
export function guestMemoryBytesFromStats(params: readonly TypedParam[]): number | null {
  const kib = numberParam(params, 'balloon.maximum') ?? numberParam(params, 'balloon.current');
  return kib === undefined ? null : kib * 1024;
}
