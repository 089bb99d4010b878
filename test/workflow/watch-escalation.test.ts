/**
 * A picture no machine should resolve once the job ended — here the VM on neither host — is shown
 * as phase 'escalated' with the situation as its reason (progress query), never acted on; when the
 * picture clears (the guest shows up running on the destination) the escalation is gone and the
 * migration finishes. Before, the decision was recorded but the phase kept saying 'pre-copy'.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MigrationSample } from '../../model/activity-contract';
import { progressQuery } from '../../workflows/definitions';
import { Gate, endedOnDestination, endedOnSource, fakeActivities, precopy } from './support/fake-activities';
import { startWorkflowTestContext, withWorker, type WorkflowTestContext } from './support/workflow-env';

let ctx: WorkflowTestContext;
beforeAll(async () => { ctx = await startWorkflowTestContext(); });
afterAll(async () => { await ctx?.env.teardown(); });

/** The job is over and neither host has the guest (deleted under the migration, or lost). */
function vmOnNoHost(): MigrationSample {
  const s = endedOnSource();
  return { ...s, source: endedOnDestination().source, destination: s.destination };
}

describe('the watch escalates an unclear picture visibly', () => {
  it('VM on neither host: phase escalated (vm-lost) while observed; cleared when the guest shows up on the destination', async () => {
    const cleared = new Gate(endedOnDestination());
    const fake = fakeActivities({ samples: [precopy(1, 100), vmOnNoHost(), cleared] });
    const { during, outcome } = await withWorker(ctx, fake, async (start) => {
      const { handle } = await start({ vm: 'web-7', destination: 'host-a' });
      await cleared.reached;
      const during = await handle.query(progressQuery);
      cleared.release();
      return { during, outcome: await handle.result() };
    });
    expect(during.phase).toBe('escalated');
    expect(during.escalation?.reason).toBe('vm-lost');
    expect(during.escalation?.why).toMatch(/neither|no host|lost/i);
    expect(outcome.outcome).toBe('completed');
    expect(fake.count('rollbackMigration')).toBe(0);
    expect(outcome.decisions.map((d) => d.action)).toContain('escalate');
  }, 90_000);
});
