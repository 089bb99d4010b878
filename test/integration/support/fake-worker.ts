/**
 * A worker with scripted fake activities (test/workflow/support/fake-activities.ts) against the
 * lab's real Temporal, on a task queue of its own: the real workflows, deterministic outcomes.
 * The CLI under test is pointed at that queue with FERRY_TASK_QUEUE.
 */
import { randomUUID } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker, type WorkflowBundle } from '@temporalio/worker';
import { waitFor } from '../../../lab/proc';
import type { FakeActivities } from '../../workflow/support/fake-activities';
import { WORKFLOWS_PATH } from '../../workflow/support/workflow-env';
import { labTemporalAddress } from './workflow-lab';

export interface FakeWorkerContext {
  address: string;
  bundle: WorkflowBundle;
  connection: NativeConnection;
  client: Connection;
  close(): Promise<void>;
}

let runtimeInstalled = false;

export async function startFakeWorkerContext(): Promise<FakeWorkerContext> {
  if (!runtimeInstalled) {
    // The failures these tests provoke on purpose would flood the output.
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    runtimeInstalled = true;
  }
  const address = await labTemporalAddress();
  const [bundle, connection, client] = await Promise.all([
    bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('ERROR') }),
    NativeConnection.connect({ address }),
    Connection.connect({ address }),
  ]);
  return {
    address,
    bundle,
    connection,
    client,
    async close() {
      await client.close();
      await connection.close();
    },
  };
}

/** Runs `body` while a worker with `fake`'s activities polls a fresh task queue (given to `body`). */
export async function withFakeWorker<T>(ctx: FakeWorkerContext, fake: FakeActivities, body: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `cli-test-${randomUUID()}`;
  const worker = await Worker.create({
    connection: ctx.connection,
    namespace: 'default',
    taskQueue,
    workflowBundle: ctx.bundle,
    activities: fake.activities,
    workflowThreadPoolSize: 1,
  });
  return worker.runUntil(async () => {
    // The CLI checks for pollers before it starts anything: wait until the server has seen ours.
    await waitFor(`the fake worker to poll ${taskQueue}`, async () => {
      const counts = await Promise.all([1, 2].map(async (taskQueueType) =>
        (await ctx.client.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue, kind: 1 }, taskQueueType })).pollers?.length ?? 0));
      return counts.every((n) => n > 0);
    }, { timeoutMs: 30_000, intervalMs: 200 });
    return body(taskQueue);
  });
}

/** Workflow executions ever started on a task queue (visibility). */
export async function executionsOn(ctx: FakeWorkerContext, taskQueue: string): Promise<number> {
  const r = await ctx.client.workflowService.countWorkflowExecutions({ namespace: 'default', query: `TaskQueue = '${taskQueue}'` });
  return Number(r.count ?? 0);
}
