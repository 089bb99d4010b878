/**
 * Visibility queries over ferry's migrations (the same strings work in `temporal workflow list
 * --query` and the web UI). Values are checked by the caller (VM and host names, UUIDs) and
 * refused here if they could change the query's meaning.
 */
import { FerryDestination, FerrySource, FerryVmName, FerryVmUuid } from '../model/search-attributes';
import { LIVE_MIGRATION_WORKFLOW_TYPE } from '../workflows/definitions';

/** `--status` words and the ExecutionStatus values visibility stores. */
export const EXECUTION_STATUSES = {
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  canceled: 'Canceled',
  terminated: 'Terminated',
  'timed-out': 'TimedOut',
  'continued-as-new': 'ContinuedAsNew',
} as const;
export type StatusWord = keyof typeof EXECUTION_STATUSES;
export const STATUS_WORDS = Object.keys(EXECUTION_STATUSES) as StatusWord[];

export interface MigrationFilters {
  vm?: { name: string } | { uuid: string };
  /** Source or destination. */
  host?: string;
  status?: StatusWord;
  since?: Date;
}

function quoted(value: string): string {
  if (/['"\\]/.test(value)) throw new Error(`refusing a visibility query value with quotes or backslashes: ${value}`);
  return `'${value}'`;
}

/**
 * The query for ferry's migrations matching `f`. A migration that continued as new leaves one
 * closed run per continuation: those are shown only when asked for (`--status continued-as-new`).
 */
export function migrationsQuery(f: MigrationFilters = {}): string {
  const parts = [`WorkflowType = ${quoted(LIVE_MIGRATION_WORKFLOW_TYPE)}`];
  if (f.vm) parts.push('uuid' in f.vm ? `${FerryVmUuid.name} = ${quoted(f.vm.uuid.toLowerCase())}` : `${FerryVmName.name} = ${quoted(f.vm.name)}`);
  if (f.host) parts.push(`(${FerrySource.name} = ${quoted(f.host)} OR ${FerryDestination.name} = ${quoted(f.host)})`);
  if (f.status) parts.push(`ExecutionStatus = ${quoted(EXECUTION_STATUSES[f.status])}`);
  else parts.push(`ExecutionStatus != ${quoted(EXECUTION_STATUSES['continued-as-new'])}`);
  if (f.since) parts.push(`StartTime >= ${quoted(f.since.toISOString())}`);
  return parts.join(' AND ');
}
