/** PURE: what the storage activities take and return (zod, checked at the worker's boundary). */
import { z } from 'zod';

export const CheckStorageInputSchema = z.object({
  vm: z.object({ name: z.string().min(1), uuid: z.string().uuid() }),
  source: z.string(),
  destination: z.string(),
  /** Names the shared-storage probe: one per run, so a retry finds (and removes) its own probe. */
  probeId: z.string().min(1),
});
export type CheckStorageInput = z.infer<typeof CheckStorageInputSchema>;

/** One disk a block migration copies, as the plan decided it (model/storage/plan.ts). */
export const DiskCopySchema = z.object({
  target: z.string().min(1),
  sourcePath: z.string().min(1),
  pool: z.string().min(1),
  volumeName: z.string().min(1),
  format: z.string().min(1),
  capacityBytes: z.number().int().min(0),
  allocationBytes: z.number().int().min(0),
});
export type DiskCopy = z.infer<typeof DiskCopySchema>;

export const DestinationVolumesInputSchema = z.object({
  migrationId: z.string().uuid(),
  destination: z.string(),
  copies: z.array(DiskCopySchema).min(1),
});
export type DestinationVolumesInput = z.infer<typeof DestinationVolumesInputSchema>;
export const DestinationVolumesResultSchema = z.object({
  /** One line per volume: created, or found created by this migration already (a retry). */
  steps: z.array(z.string()),
});
export type DestinationVolumesResult = z.infer<typeof DestinationVolumesResultSchema>;
