/**
 * The LiveMigration workflow's refusal of a workflow id that is another VM's (migrate-<uuid> whose
 * UUID is not that of the VM the request names), with the VM's real UUID in its details. A client
 * that started the migration under an id it only guessed from an earlier migration's record (the
 * name may since belong to another VM) reads the real id here and starts again under it, without
 * asking a worker where the VM is. PURE: shared by the workflow and the client.
 */
import { z } from 'zod';
import { isUuid } from './types';

export const WORKFLOW_ID_NOT_THE_VMS = 'workflow-id-not-the-vms';

export const WorkflowIdMismatchSchema = z.object({
  reason: z.literal(WORKFLOW_ID_NOT_THE_VMS),
  /** The workflow id the migration was started under. */
  workflowId: z.string(),
  /** The UUID of the VM the request names, as the source check found it (lower case). */
  vmUuid: z.string().refine(isUuid, 'must be a UUID'),
});
export type WorkflowIdMismatch = z.infer<typeof WorkflowIdMismatchSchema>;

export function workflowIdMismatch(workflowId: string, vmUuid: string): WorkflowIdMismatch {
  return { reason: WORKFLOW_ID_NOT_THE_VMS, workflowId, vmUuid: vmUuid.toLowerCase() };
}

/** The mismatch among a failure's details, or null when they carry none. */
export function findWorkflowIdMismatch(details: readonly unknown[] | undefined): WorkflowIdMismatch | null {
  for (const d of details ?? []) {
    const parsed = WorkflowIdMismatchSchema.safeParse(d);
    if (parsed.success) return parsed.data;
  }
  return null;
}
