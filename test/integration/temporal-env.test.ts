/**
 * The SDK's TestWorkflowEnvironment runs on the lab's pinned Temporal CLI binary (never a
 * download): a trivial workflow with an activity and ferry's search attributes runs end to end.
 * Fails with the install command when the CLI is missing (npx tsx lab/temporal.ts install).
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { temporalExecutable } from '../../lab/temporal';
import { FerryPhase, FerryVmName, ferrySearchAttributes } from '../../model/search-attributes';
import * as activities from './fixtures/hello-activities';
import { hello } from './fixtures/hello-workflow';

let env: TestWorkflowEnvironment | undefined;
let startupMs = 0;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const t0 = Date.now();
  env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: temporalExecutable(),
      ip: '127.0.0.1',
      searchAttributes: [...ferrySearchAttributes],
    },
  });
  startupMs = Date.now() - t0;
  console.log(`TestWorkflowEnvironment.createLocal on ${temporalExecutable().path}: ${startupMs} ms`);
});

afterAll(async () => {
  await env?.teardown();
});

describe('TestWorkflowEnvironment on the pinned Temporal CLI', () => {
  it('starts the local server quickly (the SDK waits ~5 s at most)', () => {
    expect(startupMs).toBeLessThan(5_000);
  });

  it('runs a trivial workflow with an activity and upserted ferry search attributes', async () => {
    const e = env!;
    const taskQueue = `test-${randomUUID()}`;
    const worker = await Worker.create({
      connection: e.nativeConnection,
      namespace: e.namespace ?? 'default',
      taskQueue,
      workflowsPath: path.join(__dirname, 'fixtures', 'hello-workflow.ts'),
      activities,
    });
    const workflowId = `hello-${randomUUID()}`;
    const result = await worker.runUntil(
      e.client.workflow.execute(hello, { taskQueue, workflowId, args: ['web-7'] }),
    );
    expect(result).toBe('hello, web-7');
    const desc = await e.client.workflow.getHandle(workflowId).describe();
    expect(desc.typedSearchAttributes.get(FerryVmName)).toBe('web-7');
    expect(desc.typedSearchAttributes.get(FerryPhase)).toBe('greeting');
  });
});
