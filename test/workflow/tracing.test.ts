/**
 * Tracing through the SDK's OpenTelemetry interceptors, as the worker sets it up when
 * FERRY_TRACING is on: one migration (fake activities) leaves a RunWorkflow span, and for every
 * activity it called a StartActivity span in the workflow and a RunActivity span in the worker,
 * child of it, all in one trace. Exported to memory here.
 */
import { randomUUID } from 'node:crypto';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { DefaultLogger, Worker, bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRACING_WORKFLOW_MODULES, startTracing, type WorkerTracing } from '../../worker/tracing/tracing';
import { endedOnDestination, fakeActivities, precopy, setup } from './support/fake-activities';
import { WORKFLOWS_PATH, startWorkflowTestContext, type WorkflowTestContext } from './support/workflow-env';

let ctx: WorkflowTestContext;
let tracedBundle: WorkflowBundle;
const exporter = new InMemorySpanExporter();
let tracing: WorkerTracing;
beforeAll(async () => {
  [ctx, tracedBundle] = await Promise.all([
    startWorkflowTestContext(),
    bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, workflowInterceptorModules: TRACING_WORKFLOW_MODULES, logger: new DefaultLogger('ERROR') }),
  ]);
  tracing = startTracing(exporter, { batch: false, serviceName: 'ferry-worker-test' });
});
afterAll(async () => {
  await tracing?.shutdown();
  await ctx?.env.teardown();
});

describe('tracing a migration', () => {
  it('spans for the workflow and for each activity it called, in one trace', async () => {
    const fake = fakeActivities({ postcopySupported: false, samples: [setup(), precopy(1, 100), endedOnDestination()] });
    const taskQueue = `tracing-${randomUUID()}`;
    const worker = await Worker.create({
      connection: ctx.env.nativeConnection, namespace: ctx.env.namespace ?? 'default', taskQueue,
      workflowBundle: tracedBundle, activities: fake.activities, workflowThreadPoolSize: 1,
      ...tracing.workerOptions,
    });
    const workflowId = `migrate-${fake.vm.uuid}`;
    const outcome = await worker.runUntil(async () => {
      const handle = await ctx.env.client.workflow.start('liveMigration', { taskQueue, workflowId, args: [{ vm: 'web-7', destination: 'host-a' }] });
      return handle.result();
    });
    expect((outcome as { outcome: string }).outcome).toBe('completed');

    const spans = exporter.getFinishedSpans().filter((s) => s.attributes.workflowId === workflowId || s.name.startsWith('RunActivity'));
    const named = (name: string) => spans.filter((s) => s.name === name);
    const runWorkflow = named('RunWorkflow:liveMigration');
    expect(runWorkflow.length).toBeGreaterThan(0);
    const traceId = runWorkflow[0]!.spanContext().traceId;
    const ofTrace = (s: ReadableSpan) => s.spanContext().traceId === traceId;
    expect(runWorkflow.every(ofTrace)).toBe(true);

    for (const activity of new Set(fake.names())) {
      const started = named(`StartActivity:${activity}`).filter(ofTrace);
      const ran = named(`RunActivity:${activity}`).filter(ofTrace);
      expect(started.length, activity).toBeGreaterThan(0);
      expect(ran.length, activity).toBe(fake.count(activity));
      const startedIds = new Set(started.map((s) => s.spanContext().spanId));
      for (const r of ran) expect(startedIds.has(r.parentSpanId ?? ''), `${activity}: RunActivity's parent is a StartActivity`).toBe(true);
    }
    expect(spans.find((s) => s.name === 'RunActivity:claim')?.resource.attributes['service.name']).toBe('ferry-worker-test');
  });
});
