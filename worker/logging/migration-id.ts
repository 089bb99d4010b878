import { LIVE_MIGRATION_WORKFLOW_TYPE } from '../../workflows/definitions';

/**
 * The migration a log line belongs to: its workflow id (`migrate-<vm uuid>`, what `ferry status`
 * and `ferry list` name), read from what Temporal attaches to the lines of workflow code and of
 * activities (workflowId and workflowType, of the workflow that called them). Undefined for a line
 * of no migration (the worker's own, a VM lookup).
 */
export function migrationIdOf(meta: Readonly<Record<string, unknown>>): string | undefined {
  return meta.workflowType === LIVE_MIGRATION_WORKFLOW_TYPE && typeof meta.workflowId === 'string' ? meta.workflowId : undefined;
}
