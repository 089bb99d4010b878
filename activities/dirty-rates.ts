/**
 * Measures how fast guests dirty their memory, all at once: QEMU's own dirty-rate calculation
 * (page sampling, so it works under TCG as under KVM) started on every guest, then read back in
 * one stats call. A drain orders its moves by it (quiet first). A guest whose QEMU cannot measure
 * (too old, or it went away meanwhile) gets null, which the plan counts as quiet: the measurement
 * orders the moves, it never stops one.
 *
 * Page sampling (flags 0) and never the dirty-bitmap mode: on the lab, `virsh domdirtyrate-calc
 * --mode dirty-bitmap` killed a TCG guest's QEMU 7.2 at once. Sampling is coarse on small guests
 * (QEMU samples 512 pages per GiB by default): good enough to order moves, not to predict one.
 */
import { dirtyRateFromStats, DomainStatsTypes, type DomainRef, type LibvirtClient } from './libvirt';

const MIB = 1024 * 1024;

export interface DirtyRateOptions {
  /** How long QEMU samples (whole seconds, libvirt's unit). */
  seconds: number;
  /** Extra waits for a calculation still running after the sampling time. */
  extraReads: number;
  sleep: (ms: number) => Promise<void>;
}

const DEFAULTS: DirtyRateOptions = { seconds: 1, extraReads: 4, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };

type Measuring = Pick<LibvirtClient, 'domainStartDirtyRateCalc' | 'connectGetAllDomainStats'>;

/** Bytes per second each guest dirties (by UUID); null where it could not be measured. */
export async function measureDirtyRates(client: Measuring, doms: readonly DomainRef[], o: Partial<DirtyRateOptions> = {}): Promise<Map<string, number | null>> {
  const opts = { ...DEFAULTS, ...o };
  const rates = new Map<string, number | null>(doms.map((d) => [d.uuid, null]));
  const started: DomainRef[] = [];
  for (const d of doms) {
    try {
      await client.domainStartDirtyRateCalc(d, opts.seconds);
      started.push(d);
    } catch {
      // Not measurable (libvirt or QEMU without it, or the guest stopped): stays null.
    }
  }
  if (started.length === 0) return rates;
  await opts.sleep(opts.seconds * 1000 + 100);
  for (let read = 0; read <= opts.extraReads; read += 1) {
    const pending = started.filter((d) => rates.get(d.uuid) === null);
    if (pending.length === 0) break;
    if (read > 0) await opts.sleep(250);
    const records = await client.connectGetAllDomainStats(pending, DomainStatsTypes.DirtyRate).catch(() => []);
    for (const rec of records) {
      const reading = dirtyRateFromStats(rec.params);
      if (reading.status === 'measured') rates.set(rec.domain.uuid, reading.mibPerSecond! * MIB);
    }
  }
  return rates;
}
