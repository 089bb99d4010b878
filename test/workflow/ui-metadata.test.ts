/**
 * What the Temporal web UI and CLI show of a migration started through ferry's client: a one-line
 * static summary and static details (request, policy), current details while it runs and once it
 * ended (the workflow's metadata query, which the UI reads), and a memo with the request and the
 * policy it resolved to.
 */
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadClientConfig } from '../../client/config';
import { FerryClient } from '../../client/ferry-client';
import { progressQuery, type LiveMigrationWorkflow } from '../../workflows/definitions';
import { Gate, endedOnDestination, fakeActivities, precopy, setup } from './support/fake-activities';
import { startWorkflowTestContext, type WorkflowTestContext } from './support/workflow-env';

let ctx: WorkflowTestContext;
beforeAll(async () => { ctx = await startWorkflowTestContext(); });
afterAll(async () => { await ctx?.env.teardown(); });

/** The query the Temporal UI asks a running workflow for its current details. */
const METADATA_QUERY = '__temporal_workflow_metadata';
const currentDetails = async (handle: { query: (name: string) => Promise<unknown> }) =>
  ((await handle.query(METADATA_QUERY)) as { currentDetails?: string }).currentDetails ?? '';

/** What shows while the migration is held in pre-copy: static summary and details, memo, current details. */
async function whileHeld(handle: WorkflowHandle<LiveMigrationWorkflow>): Promise<void> {
  const d = await handle.describe();
  expect(await d.staticSummary()).toBe('migrate web-7: host-c → host-a, pre-copy only');
  const details = (await d.staticDetails()) ?? '';
  expect(details).toContain('requested by ui test');
  expect(details).toContain('"allowed": false');
  expect(details).toContain('"maxMs"');
  // The memo: the request and the policy with its defaults, and what the pre-checks resolved.
  expect(d.memo).toMatchObject({
    request: { vm: 'web-7', destination: { host: 'host-a', mode: 'check' }, requestedBy: 'ui test' },
    policy: { postcopy: { allowed: false } },
    resolved: { source: 'host-c', destination: 'host-a', how: 'checked', postcopyEligible: false, postcopyUsable: false, why: 'post-copy not allowed by policy' },
  });
  expect(Object.keys((d.memo as { policy: object }).policy)).toEqual(expect.arrayContaining(['downtime', 'postcopy']));

  // While it runs: the phase, percent and the last sample's numbers.
  const running = await currentDetails(handle);
  // The same numbers as the progress query (the CLI's bar): 100 of 128 MiB left.
  const progress = await handle.query(progressQuery);
  expect(progress.percent).toBeGreaterThan(20);
  expect(running.split('\n')[0]).toBe(`**pre-copy** ${progress.percent.toFixed(0)}% · host-c → host-a · precopy`);
  expect(running).toContain('iteration 1 · 100 MiB of 128 MiB left · 20 MiB/s sent · 2 MiB/s dirtied');
  expect(running).toContain(`expected downtime ${progress.expectedDowntimeMs} ms · ${progress.verdict}`);
}

describe('a migration in the Temporal UI', () => {
  it('summary, details and memo at start; current details while it runs and once it ended', async () => {
    const taskQueue = `ui-metadata-${randomUUID()}`;
    const hold = new Gate(precopy(2, 40));
    const fake = fakeActivities({ postcopySupported: false, samples: [setup(), precopy(1, 100), hold, endedOnDestination()], finalStats: { downtimeMs: 37 } });
    const worker = await Worker.create({
      connection: ctx.env.nativeConnection, namespace: ctx.env.namespace ?? 'default', taskQueue,
      workflowBundle: ctx.bundle, activities: fake.activities, workflowThreadPoolSize: 1,
    });
    const client = await FerryClient.connect(loadClientConfig(taskQueue, {
      TEMPORAL_ADDRESS: ctx.env.address, TEMPORAL_NAMESPACE: ctx.env.namespace ?? 'default', FERRY_TASK_QUEUE: taskQueue, TEMPORAL_TLS: 'false',
    }));
    try {
      await worker.runUntil(async () => {
        const located = { uuid: fake.vm.uuid, name: fake.vm.name, host: 'host-c', hosts: ['host-c', 'host-a'] };
        const handle = await client.startMigration({ vm: 'web-7', destination: 'host-a', requestedBy: 'ui test', policy: { postcopy: { allowed: false } } }, located);
        await hold.reached;
        // A failed expectation must not leave the watch held: the worker would wait for it for ever.
        try {
          await whileHeld(handle);
        } finally {
          hold.release();
        }
        const outcome = await handle.result();
        expect(outcome.outcome).toBe('completed');
        // Once ended: outcome, time, mode, downtime.
        const ended = await currentDetails(handle);
        expect(ended).toContain(`**completed** in ${(outcome.totalMs / 1000).toFixed(1)} s · precopy · host-c → host-a · downtime 37 ms · guest stall 55 ms`);
        expect(ended).toContain('hosts: source absent; destination running (Migrated) on host-a');
      });
    } finally {
      await client.close();
    }
  });
});
