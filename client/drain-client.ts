/**
 * The typed client's drain operations: start a host's drain (or a dry run), read its progress or
 * report, cancel it, and take a host out of maintenance. Through Temporal only: the drain's
 * workflow plans with Placement and moves VMs; this side never talks to Placement or libvirt.
 */
import { randomUUID } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError, WorkflowFailedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type WorkflowHandle,
} from '@temporalio/client';
import {
  CancelDrainInputSchema, DrainRequestSchema, drainWorkflowId, type CancelDrainInput, type DrainProgress, type DrainReport, type DrainRequest,
  type DrainRequestInput,
} from '../model/drain/schemas';
import { parseWith, type UpdateResult } from '../model/types';
import {
  cancelDrainUpdate, DRAIN_HOST_WORKFLOW_TYPE, drainProgressQuery, RELEASE_HOST_WORKFLOW_TYPE, type DrainHostWorkflow, type ReleaseHostWorkflow,
} from '../workflows/definitions';
import { RefusedError, UnavailableError, UsageError } from './errors';
import { statusWord, type FerryClient } from './ferry-client';
import { rootFailure } from './outcome-format';

/** A drain request checked with the workflow's own schema; a UsageError names each bad field. */
export function validDrainRequest(input: DrainRequestInput | Record<string, unknown>): DrainRequest {
  const r = parseWith(DrainRequestSchema, input, 'drain request');
  if (!r.ok) throw new UsageError(`invalid drain request: ${r.issues.join('; ')}`, { issues: r.issues });
  return r.value;
}

export function drainHandle(client: FerryClient, host: string): WorkflowHandle<DrainHostWorkflow> {
  return client.client.workflow.getHandle<DrainHostWorkflow>(drainWorkflowId(host));
}

/**
 * Starts the drain of `request.host` as workflow drain-<host> (one per host: a second is refused),
 * or a dry run under its own id (it may run beside a drain: it changes nothing).
 */
export async function startDrain(client: FerryClient, request: DrainRequestInput | Record<string, unknown>): Promise<WorkflowHandle<DrainHostWorkflow>> {
  const req = validDrainRequest(request);
  const workflowId = req.dryRun ? `drain-plan-${req.host}-${randomUUID()}` : drainWorkflowId(req.host);
  return client.rpc(async () => {
    try {
      return await client.client.workflow.start<DrainHostWorkflow>(DRAIN_HOST_WORKFLOW_TYPE, { taskQueue: client.taskQueue, workflowId, args: [req] });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        throw new RefusedError(`a drain of ${req.host} is already running: ${workflowId} (ferry drain status ${req.host})`, { workflowId });
      }
      throw err;
    }
  });
}

export type DrainState = { running: true; progress: DrainProgress } | { running: false; status: string; report?: DrainReport; failure?: string };

/** A running drain's progress, or a finished one's report (or why it failed). */
export async function drainState(client: FerryClient, host: string): Promise<DrainState> {
  const handle = drainHandle(client, host);
  return client.rpc(async () => {
    let d;
    try {
      d = await handle.describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new RefusedError(`no drain of ${host} is known (workflow ${handle.workflowId}): start one with ferry drain ${host}`, { host });
      throw err;
    }
    if (d.status.name === 'RUNNING') return { running: true, progress: await handle.query(drainProgressQuery) };
    const status = statusWord(d.status.name);
    return handle.result().then(
      (report) => ({ running: false, status, report }),
      (err: unknown) => ({ running: false, status, failure: err instanceof WorkflowFailedError ? rootFailure(err).message : String(err) }),
    );
  }, handle.workflowId);
}

/** Cancels a host's drain; the validator's refusal (over, already cancelling) is a RefusedError saying why. */
export async function cancelDrain(client: FerryClient, host: string, input: CancelDrainInput): Promise<UpdateResult> {
  const checked = parseWith(CancelDrainInputSchema, input, 'cancel');
  if (!checked.ok) throw new UsageError(checked.issues.join('; '), { issues: checked.issues });
  const handle = drainHandle(client, host);
  return client.rpc(async () => {
    try {
      return await handle.executeUpdate(cancelDrainUpdate, { args: [input] });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) throw new RefusedError(rootFailure(err).message, { workflowId: handle.workflowId });
      if (err instanceof WorkflowNotFoundError) {
        const closed = await handle.describe().catch(() => undefined);
        if (closed) throw new RefusedError(`the drain of ${host} is over (${statusWord(closed.status.name)}): nothing to cancel`, { host });
        throw new RefusedError(`no drain of ${host} is running (workflow ${handle.workflowId})`, { host });
      }
      throw err;
    }
  }, handle.workflowId);
}

/** Takes a host out of maintenance, through a worker; refused while its drain runs. */
export async function releaseHost(client: FerryClient, host: string): Promise<{ host: string; inMaintenance: boolean; changed: boolean }> {
  const drain = await drainHandle(client, host).describe().catch(() => undefined);
  if (drain?.status.name === 'RUNNING') {
    throw new RefusedError(`the drain of ${host} is still running (${drain.workflowId}): cancel it first (ferry drain cancel ${host})`, { host });
  }
  return client.rpc(async () => {
    const handle = await client.client.workflow.start<ReleaseHostWorkflow>(RELEASE_HOST_WORKFLOW_TYPE, {
      taskQueue: client.taskQueue, workflowId: `release-host-${host}-${randomUUID()}`, args: [{ host }], workflowExecutionTimeout: 120_000,
    });
    try {
      return await handle.result();
    } catch (err) {
      if (!(err instanceof WorkflowFailedError)) throw err;
      const cause = rootFailure(err);
      if (cause.type === 'Refused' || cause.type === 'InvalidInput') throw new RefusedError(cause.message, { host });
      throw new UnavailableError(`the worker could not release ${host} (workflow ${handle.workflowId}): ${cause.message}`, { workflowId: handle.workflowId });
    }
  });
}
