import { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import type { MigrationsVisibility } from '../../activities/deps';
import type { RunningMigration } from '../../model/migrations-in-flight';
import { FerryDestination, FerryPhase, FerrySource } from '../../model/search-attributes';
import { LIVE_MIGRATION_WORKFLOW_TYPE } from '../../workflows/definitions';

/** Visibility lists at most this many running migrations for one admission (far beyond any limit). */
const MOST_LISTED = 5_000;

/**
 * The running LiveMigrations of the worker's namespace, read through the worker's own Temporal
 * connection (same address, namespace and TLS as the worker: config/temporal-connection.ts), for
 * the admission activity (activities/migrations-in-flight.ts). Visibility is the one place that
 * knows every migration, whichever worker, drain or client started it.
 */
export function runningMigrationsFrom(connection: NativeConnection, namespace: string): MigrationsVisibility {
  const client = new Client({ connection, namespace });
  const query = `WorkflowType = '${LIVE_MIGRATION_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'`;
  return {
    async runningMigrations(): Promise<RunningMigration[]> {
      const out: RunningMigration[] = [];
      for await (const w of client.workflow.list({ query, pageSize: 1000 })) {
        const sa = w.typedSearchAttributes;
        out.push({
          workflowId: w.workflowId,
          source: sa.get(FerrySource) ?? null,
          destination: sa.get(FerryDestination) ?? null,
          phase: sa.get(FerryPhase) ?? null,
        });
        if (out.length >= MOST_LISTED) break;
      }
      return out;
    },
  };
}
