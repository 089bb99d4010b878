/**
 * PURE: inputs and outputs of the drain's activities (part of model/activity-contract.ts).
 */
import { z } from 'zod';
import { ResourceAmountsSchema } from './schemas';

export const GatherDrainFactsInputSchema = z.object({ host: z.string().min(1) });
export type GatherDrainFactsInput = z.infer<typeof GatherDrainFactsInputSchema>;

export const SetHostMaintenanceInputSchema = z.object({ host: z.string().min(1), on: z.boolean() });
export type SetHostMaintenanceInput = z.infer<typeof SetHostMaintenanceInputSchema>;
export const SetHostMaintenanceResultSchema = z.object({ host: z.string(), inMaintenance: z.boolean(), changed: z.boolean() });
export type SetHostMaintenanceResult = z.infer<typeof SetHostMaintenanceResultSchema>;

export const ReserveRoomInputSchema = z.object({
  /** The reservation's own consumer in Placement: one per planned move (attempt). */
  reservationId: z.string().uuid(),
  /** The VM the room is for: the reservation is owned by the VM's project and user. */
  vmUuid: z.string().uuid(),
  destination: z.string().min(1),
  resources: ResourceAmountsSchema,
});
export type ReserveRoomInput = z.infer<typeof ReserveRoomInputSchema>;
export const ReserveRoomResultSchema = z.object({ outcome: z.enum(['reserved', 'already-reserved']), detail: z.string() });
export type ReserveRoomResult = z.infer<typeof ReserveRoomResultSchema>;

export const ReleaseRoomInputSchema = z.object({ reservationId: z.string().uuid() });
export type ReleaseRoomInput = z.infer<typeof ReleaseRoomInputSchema>;
