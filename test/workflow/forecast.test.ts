import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import type { ForecastResult } from '../../model/forecast/schemas';
import { FORECAST_MIGRATION_WORKFLOW_TYPE, type ForecastMigrationWorkflow } from '../../workflows/definitions';
import { fakeActivities, type FakeActivities, type FakeScript } from './support/fake-activities';
import { failureChain, startWorkflowTestContext, type WorkflowTestContext } from './support/workflow-env';

const MiB = 1024 * 1024;
let ctx: WorkflowTestContext;

beforeAll(async () => {
  ctx = await startWorkflowTestContext();
}, 120_000);
afterAll(async () => {
  await ctx?.env.teardown();
});

async function forecast(fake: FakeActivities, input: unknown): Promise<ForecastResult> {
  const taskQueue = `wf-forecast-${randomUUID()}`;
  const worker = await Worker.create({
    connection: ctx.env.nativeConnection, namespace: ctx.env.namespace ?? 'default', taskQueue,
    workflowBundle: ctx.bundle, activities: fake.activities, workflowThreadPoolSize: 1,
  });
  return worker.runUntil(ctx.env.client.workflow.execute<ForecastMigrationWorkflow>(FORECAST_MIGRATION_WORKFLOW_TYPE, {
    taskQueue, workflowId: `forecast-${randomUUID()}`, args: [input as Parameters<ForecastMigrationWorkflow>[0]],
  }));
}

async function forecastFailure(fake: FakeActivities, input: unknown) {
  const err = await forecast(fake, input).then(() => { throw new Error('expected the forecast to fail'); }, (e: unknown) => e);
  if (!(err instanceof WorkflowFailedError)) throw err;
  return failureChain(err);
}

const withFacts = (facts: { dirtyBps: number | null; sourceLinkMiBps: number | null; destinationLinkMiBps: number | null }, more: Partial<FakeScript> = {}) =>
  fakeActivities({ samples: [], ...more, overrides: { ...more.overrides, gatherForecastFacts: async () => facts } });

describe('forecastMigration: the migration\'s own checks, the measured dirty rate, the forecast', () => {
  it("a quiet guest over the inventory's links: pre-copy picked, on the path the migration would take", async () => {
    const fake = withFacts({ dirtyBps: 1 * MiB, sourceLinkMiBps: 1000, destinationLinkMiBps: 100 });
    const r = await forecast(fake, { vm: fake.vm.name, to: 'host-b' });
    expect(r).toMatchObject({ source: 'host-c', destination: 'host-b', pick: 'precopy', bandwidth: { source: 'inventory', bps: 100 * MiB }, postcopyEligible: true });
    expect(r.strategies.map((s) => s.strategy)).toEqual(['precopy', 'postcopy-after-first-pass', 'postcopy-at-once', 'pause']);
    expect(fake.calls.find((c) => c.name === 'chooseDestinationHost')?.input).toMatchObject({ requested: { host: 'host-b', mode: 'check' } });
    expect(fake.calls.find((c) => c.name === 'gatherForecastFacts')?.input).toMatchObject({ vmUuid: fake.vm.uuid, source: 'host-c', destination: 'host-b' });
    expect(fake.count('claim')).toBe(0);
    expect(fake.count('startMigration')).toBe(0);
  }, 60_000);

  it("a guest dirtying faster than the operator's bandwidth picks post-copy after the first pass; with a blocker, pause", async () => {
    const facts = { dirtyBps: 400 * MiB, sourceLinkMiBps: null, destinationLinkMiBps: null };
    const r = await forecast(withFacts(facts), { vm: 'vm-1', bandwidthMiBps: 100 });
    expect(r).toMatchObject({ pick: 'postcopy-after-first-pass', bandwidth: { source: 'operator' } });
    const blocked = await forecast(withFacts(facts, { postcopyBlockers: ['<hostdev> VFIO'] }), { vm: 'vm-1', bandwidthMiBps: 100 });
    expect(blocked).toMatchObject({ pick: 'pause', postcopyEligible: false });
  }, 60_000);

  it('no bandwidth known: refused naming --bandwidth; a bad --bandwidth: refused naming the field, before any activity', async () => {
    const noLink = await forecastFailure(withFacts({ dirtyBps: MiB, sourceLinkMiBps: null, destinationLinkMiBps: null }), { vm: 'vm-1' });
    expect(noLink.at(-1)).toMatchObject({ type: 'InvalidInput', message: expect.stringContaining('--bandwidth') });
    const fake = fakeActivities({ samples: [] });
    const bad = await forecastFailure(fake, { vm: 'vm-1', bandwidthMiBps: -3 });
    expect(bad.at(-1)).toMatchObject({ type: 'InvalidInput', message: expect.stringContaining('bandwidthMiBps') });
    expect(fake.calls).toHaveLength(0);
  }, 60_000);
});
