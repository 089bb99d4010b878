/**
 * `ferry migrate` (the CLI's action, in process) against Temporal's test server, with a worker that
 * runs the real locateVm workflow and scripted fake activities: `--to` the host the VM runs on is
 * refused as a usage error (64) once locateVm has answered, and migrate-<vm uuid> never starts.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { migrate } from '../../client/commands/migration-actions';
import { UsageError } from '../../client/errors';
import { EXIT } from '../../client/exit-codes';
import { endedOnDestination, fakeActivities, precopy, type FakeActivities } from './support/fake-activities';
import { startWorkflowTestContext, type WorkflowTestContext } from './support/workflow-env';

let ctx: WorkflowTestContext;
beforeAll(async () => { ctx = await startWorkflowTestContext(); });
afterAll(async () => { await ctx?.env.teardown(); });
afterEach(() => { vi.unstubAllEnvs(); vi.restoreAllMocks(); });

const TASK_QUEUE_TYPE_WORKFLOW = 1;
const TASK_QUEUE_TYPE_ACTIVITY = 2;

/** Runs `body` while a worker with `fake`'s activities polls a fresh task queue the CLI is pointed at. */
async function withCliWorker<T>(fake: FakeActivities, body: () => Promise<T>): Promise<T> {
  const taskQueue = `cli-migrate-${randomUUID()}`;
  for (const [name, value] of Object.entries({
    TEMPORAL_ADDRESS: ctx.env.address, TEMPORAL_NAMESPACE: ctx.env.namespace ?? 'default', FERRY_TASK_QUEUE: taskQueue,
    // Plain gRPC to the test server whatever TLS the outer environment or profile asks for.
    TEMPORAL_TLS: 'false',
  })) vi.stubEnv(name, value);
  const worker = await Worker.create({
    connection: ctx.env.nativeConnection, namespace: ctx.env.namespace ?? 'default', taskQueue,
    workflowBundle: ctx.bundle, activities: fake.activities, workflowThreadPoolSize: 1,
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
    return body();
  });
}

describe('ferry migrate --to the host the VM runs on', () => {
  it('exit 64 naming --to and the source host, after locateVm; migrate-<vm uuid> never starts', async () => {
    const fake = fakeActivities({ samples: [] }); // the VM runs on host-c
    const err = await withCliWorker(fake, () => migrate(fake.vm.name, { to: 'host-c' }).then(() => undefined, (e: unknown) => e));
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(EXIT.usage);
    expect((err as UsageError).message).toBe("invalid migration request: --to: must differ from the source host 'host-c' (the VM runs there)");
    expect(fake.names()).toEqual(['locateVm']);
    const migration = await ctx.env.client.workflow.getHandle(`migrate-${fake.vm.uuid}`).describe().then(() => 'started', (e: unknown) => e);
    expect(migration).toBeInstanceOf(WorkflowNotFoundError);
  });

  it('another host: migrate-<vm uuid> starts and completes (exit 0)', async () => {
    const fake = fakeActivities({ postcopySupported: false, samples: [precopy(1, 10), endedOnDestination()] });
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const code = await withCliWorker(fake, () => migrate(fake.vm.name, { to: 'host-a' }));
    expect(code).toBe(EXIT.ok);
    expect(fake.names()[0]).toBe('locateVm');
    expect(fake.names()).toContain('startMigration');
  });
});

describe('ferry migrate while the shared admission limits are full', () => {
  it("prints 'waiting for admission: <limit>', then exits 2 naming the limit once its bound is spent", async () => {
    const full = { total: 4, outOf: { 'host-x': 4 }, into: { 'host-y': 4 }, onLink: {}, hostLimits: {} };
    const fake = fakeActivities({ samples: [endedOnDestination()], overrides: { migrationsInFlight: async () => full } });
    let stderr = '';
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => { stderr += String(chunk); return true; });
    const err = await withCliWorker(fake, () =>
      migrate(fake.vm.name, { to: 'host-a', policy: '{"admission":{"waitSeconds":5}}' }).then(() => undefined, (e: unknown) => e));
    expect(stderr).toMatch(/admission {2}waiting for admission: cluster-wide limit: 4 of 4 migrations run \(since \S+; refused if still waiting at \S+\)/);
    expect((err as { exitCode?: number }).exitCode).toBe(EXIT.refused);
    expect((err as Error).message).toMatch(/refused: not admitted within 5 s \(policy\.admission\.waitSeconds\): cluster-wide limit: 4 of 4 migrations run/);
    expect(fake.count('claim')).toBe(0);
  });
});
