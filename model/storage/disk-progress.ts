/**
 * PURE: a block migration's disk figures in the progress. libvirt counts the disks' mirror in the
 * job's data figures (data_total = RAM + disk), but it mirrors the disks first and only then starts
 * the RAM: while the mirror runs, the RAM is not in the total yet, and a percent of the disk alone
 * would race to the top and then stand still. The planned total (RAM + copied disks) is the floor
 * of the total, and what it adds is still to do.
 */
import { z } from 'zod';

export const DiskProgressSchema = z.object({
  totalBytes: z.number().min(0),
  processedBytes: z.number().min(0),
  remainingBytes: z.number().min(0),
  bps: z.number().min(0).nullable(),
});
export type DiskProgress = z.infer<typeof DiskProgressSchema>;

/** Total and remaining for the percent: the job's figures, with the planned total as floor. */
export function withPlannedTotal(sample: { dataTotal: number; dataRemaining: number }, plannedTotalBytes: number): { totalBytes: number; remainingBytes: number } {
  const missing = Math.max(0, plannedTotalBytes - sample.dataTotal);
  return { totalBytes: sample.dataTotal + missing, remainingBytes: sample.dataRemaining + missing };
}
