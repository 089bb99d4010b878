/**
 * What a forecast learns a host pair's fixed costs from: the pair's recent completed migrations,
 * read from Temporal's visibility through the worker's connection (worker/visibility/
 * past-migrations.ts), each one's job time and bytes from its outcome and its bandwidth limit from
 * its request. Against the test server's real visibility, with real LiveMigration runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pastMigrationsFrom } from '../../worker/visibility/past-migrations';
import { endedOnDestination, fakeActivities, precopy, setup } from './support/fake-activities';
import { runMigration, startWorkflowTestContext, type WorkflowTestContext } from './support/workflow-env';

let ctx: WorkflowTestContext;
beforeAll(async () => { ctx = await startWorkflowTestContext(); });
afterAll(async () => { await ctx?.env.teardown(); });

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe("a host pair's past migrations, from visibility", () => {
  it('lists the completed migrations from one host to another, latest first, with job time, bytes and limit; another pair has none', async () => {
    const fake = () => fakeActivities({ samples: [setup(), precopy(1, 50), endedOnDestination()] });
    const first = await runMigration(ctx, fake(), { vm: 'web-7', destination: 'host-a' });
    const second = await runMigration(ctx, fake(), { vm: 'web-7', destination: 'host-a', bandwidthMiBps: 8 });
    expect([first.outcome, second.outcome]).toEqual(['completed', 'completed']);

    const history = pastMigrationsFrom(ctx.env.nativeConnection, ctx.env.namespace ?? 'default');
    let listed = await history.pastMigrations('host-c', 'host-a', 10);
    for (let i = 0; listed.length < 2 && i < 100; i += 1) {
      await sleep(100);
      listed = await history.pastMigrations('host-c', 'host-a', 10);
    }
    const jobMs = (o: typeof first) => o.decisions.find((d) => d.action === 'job-ended')!.atMs - o.decisions.find((d) => d.action === 'start')!.atMs;
    expect(listed).toEqual([
      { workflowId: expect.stringMatching(/^migrate-/), jobMs: jobMs(second), bytes: second.bytes, limitBps: 8 * MiB, mode: 'precopy' },
      { workflowId: expect.stringMatching(/^migrate-/), jobMs: jobMs(first), bytes: first.bytes, limitBps: null, mode: 'precopy' },
    ]);
    expect(await history.pastMigrations('host-c', 'host-a', 1)).toHaveLength(1);
    expect(await history.pastMigrations('host-a', 'host-c', 10)).toEqual([]);
    // A name with a quote is escaped inside the query, not an error.
    expect(await history.pastMigrations("host-'c", 'host-a', 10)).toEqual([]);
  });
});
