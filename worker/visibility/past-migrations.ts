import { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { NativeConnection } from '@temporalio/worker';
import type { PastMigrationsVisibility } from '../../activities/deps';
import { pastMigration, type PastMigration, type PastOutcome } from '../../model/forecast/path-history';
import { FerryDestination, FerryOutcome, FerrySource } from '../../model/search-attributes';
import { LIVE_MIGRATION_WORKFLOW_TYPE } from '../../workflows/definitions';

/** A host name inside a visibility query's quotes (inventory names never hold one; still escaped). */
const quoted = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * The most recent completed LiveMigrations from one host to another, as the forecast learns from
 * them (model/forecast/path-history.ts), through the worker's own Temporal connection. Visibility
 * lists closed workflows latest-closed first; each one's outcome (its result) gives its job's time
 * and bytes, its request (the first event's input) its bandwidth limit. Two small reads per
 * migration, for at most `limit` migrations.
 */
export function pastMigrationsFrom(connection: NativeConnection, namespace: string): PastMigrationsVisibility {
  const client = new Client({ connection, namespace });
  return {
    async pastMigrations(source: string, destination: string, limit: number): Promise<PastMigration[]> {
      const query = [
        `WorkflowType = '${LIVE_MIGRATION_WORKFLOW_TYPE}'`, `ExecutionStatus = 'Completed'`, `${FerryOutcome.name} = 'completed'`,
        `${FerrySource.name} = ${quoted(source)}`, `${FerryDestination.name} = ${quoted(destination)}`,
      ].join(' AND ');
      const out: PastMigration[] = [];
      let listed = 0;
      for await (const w of client.workflow.list({ query, pageSize: limit })) {
        listed += 1;
        const [outcome, limitMiBps] = await Promise.all([
          client.workflow.getHandle<() => Promise<PastOutcome>>(w.workflowId, w.runId, { followRuns: false }).result(),
          requestLimit(client, namespace, w.workflowId, w.runId),
        ]);
        const past = pastMigration(w.workflowId, outcome, limitMiBps);
        if (past) out.push(past);
        if (listed >= limit) break;
      }
      return out;
    },
  };
}

/** The request's bandwidth limit (MiB/s) from the run's first event; null when none. */
async function requestLimit(client: Client, namespace: string, workflowId: string, runId: string): Promise<number | null> {
  const page = await client.workflowService.getWorkflowExecutionHistory({ namespace, execution: { workflowId, runId }, maximumPageSize: 1 });
  const payload = page.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload) return null;
  const req = defaultPayloadConverter.fromPayload<{ bandwidthMiBps?: unknown } | null>(payload);
  return typeof req?.bandwidthMiBps === 'number' ? req.bandwidthMiBps : null;
}
