/**
 * The forecast through a worker (the forecastMigration workflow): this side talks to Temporal only.
 * A refusal the workflow names (no such VM, no bandwidth known, a bad option) is the operator's to fix.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import type { ForecastRequestInput, ForecastResult } from '../model/forecast/schemas';
import { FORECAST_MIGRATION_WORKFLOW_TYPE, type ForecastMigrationWorkflow } from '../workflows/definitions';
import { RefusedError, UnavailableError } from './errors';
import type { FerryClient } from './ferry-client';
import { rootFailure } from './outcome-format';

/** The checks, a few seconds of dirty-rate sampling and the model: a minute is ample. */
const FORECAST_TIMEOUT_MS = 120_000;

export async function runForecast(client: FerryClient, request: ForecastRequestInput): Promise<ForecastResult> {
  return client.rpc(async () => {
    const handle = await client.client.workflow.start<ForecastMigrationWorkflow>(FORECAST_MIGRATION_WORKFLOW_TYPE, {
      taskQueue: client.taskQueue, workflowId: `forecast-${randomUUID()}`, args: [request], workflowExecutionTimeout: FORECAST_TIMEOUT_MS,
    });
    try {
      return await handle.result();
    } catch (err) {
      if (!(err instanceof WorkflowFailedError)) throw err;
      const cause = rootFailure(err);
      if (cause.type === 'Refused' || cause.type === 'InvalidInput' || cause.type === 'VmMissing') throw new RefusedError(cause.message, { vm: request.vm });
      throw new UnavailableError(`the worker could not forecast ${request.vm} (workflow ${handle.workflowId}): ${cause.message}`, { workflowId: handle.workflowId });
    }
  });
}
