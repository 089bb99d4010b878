/**
 * Runs a CLI action in process against the workflow test server: TEMPORAL_* and FERRY_TASK_QUEUE
 * point the CLI at a fresh task queue on which a worker with the given fake activities polls.
 */
import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { vi } from 'vitest';
import type { FakeActivities } from './fake-activities';
import type { WorkflowTestContext } from './workflow-env';

const TASK_QUEUE_TYPE_WORKFLOW = 1;
const TASK_QUEUE_TYPE_ACTIVITY = 2;

export async function withCliWorker<T>(ctx: WorkflowTestContext, fake: FakeActivities, body: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `cli-${randomUUID()}`;
  for (const [name, value] of Object.entries({
    TEMPORAL_ADDRESS: ctx.env.address, TEMPORAL_NAMESPACE: ctx.env.namespace ?? 'default', FERRY_TASK_QUEUE: taskQueue, TEMPORAL_TLS: 'false',
  })) vi.stubEnv(name, value);
  const worker = await Worker.create({
    connection: ctx.env.nativeConnection, namespace: ctx.env.namespace ?? 'default', taskQueue, workflowBundle: ctx.bundle, activities: fake.activities,
  });
  return worker.runUntil(async () => {
    // The CLI checks for pollers first (ensureWorker): wait until the server has seen both kinds.
    const pollers = async (taskQueueType: number) => (await ctx.env.client.workflowService.describeTaskQueue({
      namespace: ctx.env.namespace ?? 'default', taskQueue: { name: taskQueue, kind: 1 }, taskQueueType,
    })).pollers?.length ?? 0;
    for (let i = 0; (await pollers(TASK_QUEUE_TYPE_WORKFLOW)) === 0 || (await pollers(TASK_QUEUE_TYPE_ACTIVITY)) === 0; i++) {
      if (i > 100) throw new Error(`no pollers on ${taskQueue} after 10 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return body(taskQueue);
  });
}

/** What the CLI wrote to stdout and stderr while `fn` ran. */
export async function captured<T>(fn: () => Promise<T>): Promise<{ value: T; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => { stdout += String(chunk); return true; });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => { stderr += String(chunk); return true; });
  try {
    const value = await fn();
    return { value, stdout, stderr };
  } finally {
    vi.mocked(process.stdout.write).mockRestore();
    vi.mocked(process.stderr.write).mockRestore();
  }
}
