import { Client, Connection, WorkflowExecutionAlreadyStartedError, type WorkflowHandle } from '@temporalio/client';
import { temporalConnectionOptions } from '../worker/temporal-connection';
import type { WorkerConfig } from '../worker/config';
import {
  abortUpdate, decisionsQuery, forceCompleteUpdate, LIVE_MIGRATION_WORKFLOW_TYPE, policyQuery, progressQuery,
  setBandwidthUpdate, setMaxDowntimeUpdate, TASK_QUEUE,
} from '../workflows/definitions';
import type { liveMigration } from '../workflows/live-migration';
import { migrationWorkflowId, parseMigrationRequest, type Outcome } from '../model/types';

/** A typed client for other services and for the CLI: the same schemas as the workflow. */

export class AlreadyMigratingError extends Error {
  constructor(readonly workflowId: string) {
    super(`a migration of this VM is already running: workflow ${workflowId} (ferry status ${workflowId})`);
  }
}

export interface MigrationSummary {
  workflowId: string;
  runId: string;
  status: string;
  startTime: Date;
  closeTime?: Date;
  vm: string | null;
  source: string | null;
  destination: string | null;
  phase: string | null;
  outcome: string | null;
}

export class FerryClient {
  private constructor(readonly client: Client, private readonly connection: Connection, readonly taskQueue: string) {}

  static async connect(c: Pick<WorkerConfig, 'FERRY_TEMPORAL_ADDRESS' | 'FERRY_TEMPORAL_NAMESPACE' | 'FERRY_TEMPORAL_TLS' | 'FERRY_TEMPORAL_TLS_CA' | 'FERRY_TEMPORAL_TLS_CERT' | 'FERRY_TEMPORAL_TLS_KEY'> & { FERRY_TASK_QUEUE?: string }): Promise<FerryClient> {
    const connection = await Connection.connect(temporalConnectionOptions(c));
    return new FerryClient(new Client({ connection, namespace: c.FERRY_TEMPORAL_NAMESPACE }), connection, c.FERRY_TASK_QUEUE ?? TASK_QUEUE);
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  /**
   * Starts a migration after validating the request with the workflow's own schema. The workflow
   * id is derived from the VM's UUID, so a second migration of the same VM is refused.
   */
  async startMigration(request: unknown, vmUuid: string): Promise<WorkflowHandle<typeof liveMigration>> {
    const parsed = parseMigrationRequest(request);
    if (!parsed.ok) throw new Error(parsed.error);
    const workflowId = migrationWorkflowId(vmUuid);
    try {
      return await this.client.workflow.start<typeof liveMigration>(LIVE_MIGRATION_WORKFLOW_TYPE, {
        taskQueue: this.taskQueue,
        workflowId,
        args: [request],
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) throw new AlreadyMigratingError(workflowId);
      throw err;
    }
  }

  handle(workflowId: string): WorkflowHandle<typeof liveMigration> {
    return this.client.workflow.getHandle<typeof liveMigration>(workflowId);
  }

  result(workflowId: string): Promise<Outcome> {
    return this.handle(workflowId).result();
  }
  progress(workflowId: string) {
    return this.handle(workflowId).query(progressQuery);
  }
  policy(workflowId: string) {
    return this.handle(workflowId).query(policyQuery);
  }
  decisions(workflowId: string) {
    return this.handle(workflowId).query(decisionsQuery);
  }
  abort(workflowId: string, reason?: string) {
    return this.handle(workflowId).executeUpdate(abortUpdate, { args: [reason ? { reason } : {}] });
  }
  forceComplete(workflowId: string) {
    return this.handle(workflowId).executeUpdate(forceCompleteUpdate, { args: [{}] });
  }
  setMaxDowntime(workflowId: string, ms: number) {
    return this.handle(workflowId).executeUpdate(setMaxDowntimeUpdate, { args: [{ ms }] });
  }
  setBandwidth(workflowId: string, mibps: number) {
    return this.handle(workflowId).executeUpdate(setBandwidthUpdate, { args: [{ mibps }] });
  }

  /** Migrations from Temporal visibility, newest first; `query` is a visibility query. */
  async list(query = `WorkflowType = '${LIVE_MIGRATION_WORKFLOW_TYPE}'`, limit = 50): Promise<MigrationSummary[]> {
    const out: MigrationSummary[] = [];
    for await (const w of this.client.workflow.list({ query })) {
      const sa = w.searchAttributes as Record<string, unknown[] | undefined>;
      const first = (k: string) => (sa[k]?.[0] as string | undefined) ?? null;
      out.push({
        workflowId: w.workflowId, runId: w.runId, status: w.status.name, startTime: w.startTime, closeTime: w.closeTime,
        vm: first('FerryVmName'), source: first('FerrySource'), destination: first('FerryDestination'),
        phase: first('FerryPhase'), outcome: first('FerryOutcome'),
      });
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Every migration of one VM (by name or UUID). */
  history(vm: string): Promise<MigrationSummary[]> {
    const key = /^[0-9a-f-]{36}$/i.test(vm) ? 'FerryVmUuid' : 'FerryVmName';
    return this.list(`WorkflowType = '${LIVE_MIGRATION_WORKFLOW_TYPE}' AND ${key} = '${vm.replace(/'/g, '')}'`, 500);
  }
}
