/**
 * One Temporal test server and one workflow bundle per test file: the server is the lab's pinned
 * CLI (never a download: temporalExecutable() throws with the install command when it is missing),
 * the bundle is built once (seconds) and shared by every Worker of the file.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { WorkflowFailedError, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode, type RuntimeOptions, type WorkflowBundle } from '@temporalio/worker';
import { temporalExecutable } from '../../../lab/temporal';
import { ferrySearchAttributes } from '../../../model/search-attributes';
import type { liveMigration } from '../../../workflows';
import type { Outcome } from '../../../model/types';
import type { FakeActivities } from './fake-activities';

export interface WorkflowTestContext {
  env: TestWorkflowEnvironment;
  bundle: WorkflowBundle;
}

/** The bundle's entry point (vitest's require.resolve does not resolve extensionless .ts). */
export const WORKFLOWS_PATH = path.resolve(__dirname, '../../../workflows/index.ts');

let runtimeInstalled = false;

/**
 * `runtime`: the process's Temporal runtime options (a metrics endpoint, a logger), for a test file
 * of its own: the runtime is installed once per process, by the first context.
 */
export async function startWorkflowTestContext(runtime: RuntimeOptions = {}): Promise<WorkflowTestContext> {
  if (!runtimeInstalled) {
    // Workflow failures the tests provoke on purpose would otherwise flood the output.
    Runtime.install({ logger: new DefaultLogger('ERROR'), ...runtime });
    runtimeInstalled = true;
  }
  const executable = temporalExecutable(); // throws "install it with npx tsx lab/temporal.ts install"
  const [env, bundle] = await Promise.all([
    TestWorkflowEnvironment.createLocal({ server: { executable, ip: '127.0.0.1', searchAttributes: [...ferrySearchAttributes] } }),
    bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('ERROR') }),
  ]);
  return { env, bundle };
}

export interface MigrationRun {
  handle: WorkflowHandleWithFirstExecutionRunId<typeof liveMigration>;
  workflowId: string;
  taskQueue: string;
}

/**
 * Runs a worker with `fake`'s activities on a fresh task queue while `body` runs: `body` starts
 * the migration through `start` and returns whatever the test needs (usually the outcome).
 */
export async function withWorker<T>(
  ctx: WorkflowTestContext,
  fake: FakeActivities,
  body: (start: (input: unknown, opts?: { workflowId?: string; resume?: unknown }) => Promise<MigrationRun>) => Promise<T>,
): Promise<T> {
  const taskQueue = `wf-test-${randomUUID()}`;
  const worker = await Worker.create({
    connection: ctx.env.nativeConnection,
    namespace: ctx.env.namespace ?? 'default',
    taskQueue,
    workflowBundle: ctx.bundle,
    activities: fake.activities,
    // One workflow thread is plenty for one test's migration and halves the worker's start.
    workflowThreadPoolSize: 1,
  });
  /** `resume`: the flight a continued run receives (as continue-as-new passes it). */
  const start = async (input: unknown, opts: { workflowId?: string; resume?: unknown } = {}): Promise<MigrationRun> => {
    const workflowId = opts.workflowId ?? `migrate-${fake.vm.uuid}`;
    const handle = await ctx.env.client.workflow.start<typeof liveMigration>('liveMigration', {
      taskQueue,
      workflowId,
      args: (opts.resume === undefined ? [input] : [input, opts.resume]) as [unknown],
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    });
    return { handle, workflowId, taskQueue };
  };
  return worker.runUntil(body(start));
}

/** Starts a migration and waits for its outcome (or its failure). */
export async function runMigration(ctx: WorkflowTestContext, fake: FakeActivities, input: unknown, opts: { workflowId?: string } = {}): Promise<Outcome> {
  return withWorker(ctx, fake, async (start) => (await start(input, opts)).handle.result());
}

/** The failure a migration ended with: the WorkflowFailedError's chain, flattened. */
export async function migrationFailure(ctx: WorkflowTestContext, fake: FakeActivities, input: unknown, opts: { workflowId?: string } = {}) {
  const err = await runMigration(ctx, fake, input, opts).then(
    (outcome) => { throw new Error(`expected the migration to fail, it ended ${outcome.outcome}`); },
    (e: unknown) => e,
  );
  if (!(err instanceof WorkflowFailedError)) throw err;
  return failureChain(err);
}

export interface FailureLink {
  name: string;
  message: string;
  type?: string;
  nonRetryable?: boolean;
}

/** Each error of a cause chain: WorkflowFailedError -> ActivityFailure -> ApplicationFailure ... */
export function failureChain(err: unknown): FailureLink[] {
  const out: FailureLink[] = [];
  let e: unknown = err;
  while (e instanceof Error) {
    const x = e as Error & { type?: string; nonRetryable?: boolean };
    out.push({ name: x.name, message: x.message, type: x.type ?? undefined, nonRetryable: x.nonRetryable });
    e = x.cause;
  }
  return out;
}
