/**
 * History stays bounded for migrations of any length: after enough watch rounds the workflow
 * continues as new, carrying its state (controller, progress, decisions), and the new run goes
 * on watching without repeating pre-checks, claims or the start.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { progressQuery } from '../../workflows/definitions';
import { endedOnDestination, fakeActivities, precopy } from './support/fake-activities';
import { startWorkflowTestContext, withWorker, type WorkflowTestContext } from './support/workflow-env';

let ctx: WorkflowTestContext;
beforeAll(async () => { ctx = await startWorkflowTestContext(); });
afterAll(async () => { await ctx?.env.teardown(); });

describe('continue-as-new', () => {
  it('a long pre-copy continues as new and completes with its state carried over', async () => {
    // 220 rounds of the same iteration (nothing to decide), then the switch-over.
    const samples = [...Array.from({ length: 220 }, () => precopy(1, 60)), endedOnDestination()];
    const fake = fakeActivities({ samples, postcopySupported: false });
    const { outcome, runs, percentAfter } = await withWorker(ctx, fake, async (start) => {
      const { handle } = await start({ vm: 'web-7', destination: 'host-a', policy: { completion: { minSeconds: 3600 } } });
      const outcome = await handle.result();
      const runs: string[] = [];
      for await (const w of ctx.env.client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) runs.push(w.status.name);
      const percentAfter = (await handle.query(progressQuery)).percent;
      return { outcome, runs, percentAfter };
    });
    expect(outcome.outcome, JSON.stringify({ error: outcome.error, last: outcome.decisions.slice(-3) })).toBe('completed');
    expect(runs).toContain('CONTINUED_AS_NEW');
    expect(fake.count('checkSource')).toBe(1);
    expect(fake.count('claim')).toBe(1);
    expect(fake.count('startMigration')).toBe(1);
    expect(fake.count('finishOnHosts')).toBe(1);
    expect(fake.count('watchMigration')).toBeGreaterThanOrEqual(221);
    const actions = outcome.decisions.map((d) => d.action);
    // Decisions of the first run come along; the new run says it resumed.
    expect(actions.slice(0, 2)).toEqual(['choose-destination', 'resolve-policy']);
    expect(actions).toContain('resume');
    expect(percentAfter).toBe(100);
  }, 120_000);
});
