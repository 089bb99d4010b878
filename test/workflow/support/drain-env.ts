/**
 * Runs DrainHost on the workflow test server with drain fakes, and reads what its history shows:
 * the child migrations' overlap (limits are checked from the history, not from the fakes).
 */
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import type { temporal } from '@temporalio/proto';
import { drainWorkflowId, type DrainReport, type DrainRequestInput } from '../../../model/drain';
import type { DrainHostWorkflow } from '../../../workflows/definitions';
import type { FakeActivities } from './fake-activities';
import type { WorkflowTestContext } from './workflow-env';

export async function withDrainWorker<T>(
  ctx: WorkflowTestContext,
  fake: FakeActivities,
  body: (start: (req: DrainRequestInput, workflowId?: string) => Promise<WorkflowHandle<DrainHostWorkflow>>) => Promise<T>,
): Promise<T> {
  const taskQueue = `drain-test-${randomUUID()}`;
  const worker = await Worker.create({
    connection: ctx.env.nativeConnection, namespace: ctx.env.namespace ?? 'default', taskQueue, workflowBundle: ctx.bundle, activities: fake.activities,
  });
  const start = (req: DrainRequestInput, workflowId = drainWorkflowId(req.host)) =>
    ctx.env.client.workflow.start<DrainHostWorkflow>('drainHost', {
      taskQueue, workflowId, args: [req], workflowIdConflictPolicy: 'FAIL', workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    });
  return worker.runUntil(body(start));
}

export async function runDrain(ctx: WorkflowTestContext, fake: FakeActivities, req: DrainRequestInput): Promise<{ report: DrainReport; handle: WorkflowHandle<DrainHostWorkflow> }> {
  return withDrainWorker(ctx, fake, async (start) => {
    const handle = await start(req);
    return { report: await handle.result(), handle };
  });
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export interface ChildSpan {
  workflowId: string;
  destination: string;
  /** Event ids: started, and closed (completed, failed, ...). */
  startedAt: number;
  closedAt: number;
}

/** The child migrations as the drain's history shows them: id, destination, and when each ran. */
export function childSpans(events: HistoryEvent[]): ChildSpan[] {
  const initiated = new Map<number, { workflowId: string; destination: string }>();
  const spans = new Map<number, ChildSpan>();
  for (const e of events) {
    const id = Number(e.eventId);
    const init = e.startChildWorkflowExecutionInitiatedEventAttributes;
    if (init) {
      const request = JSON.parse(Buffer.from(init.input!.payloads![0]!.data!).toString()) as { destination: { host: string } };
      initiated.set(id, { workflowId: init.workflowId!, destination: request.destination.host });
    }
    const started = e.childWorkflowExecutionStartedEventAttributes;
    if (started) {
      const i = initiated.get(Number(started.initiatedEventId))!;
      spans.set(Number(started.initiatedEventId), { ...i, startedAt: id, closedAt: Infinity });
    }
    const closed = e.childWorkflowExecutionCompletedEventAttributes ?? e.childWorkflowExecutionFailedEventAttributes
      ?? e.childWorkflowExecutionCanceledEventAttributes ?? e.childWorkflowExecutionTerminatedEventAttributes ?? e.childWorkflowExecutionTimedOutEventAttributes;
    if (closed) spans.get(Number(closed.initiatedEventId))!.closedAt = id;
  }
  return [...spans.values()];
}

/** The most children running at once, overall or into one destination. */
export function maxOverlap(spans: ChildSpan[], destination?: string): number {
  const mine = destination === undefined ? spans : spans.filter((s) => s.destination === destination);
  let most = 0;
  for (const s of mine) most = Math.max(most, mine.filter((o) => o.startedAt <= s.startedAt && s.startedAt < o.closedAt).length);
  return most;
}

export async function historyOf(handle: WorkflowHandle): Promise<HistoryEvent[]> {
  return (await handle.fetchHistory()).events ?? [];
}
