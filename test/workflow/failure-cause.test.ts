/**
 * A libvirt job that fails: the outcome carries libvirt's own message (the migrate call's error,
 * reported by the watch), not only ferry's words about where the guest is.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endedOnSource, fakeActivities, precopy } from './support/fake-activities';
import { runMigration, startWorkflowTestContext, type WorkflowTestContext } from './support/workflow-env';

let ctx: WorkflowTestContext;
beforeAll(async () => { ctx = await startWorkflowTestContext(); });
afterAll(async () => { await ctx?.env.teardown(); });

describe('a failed libvirt job', () => {
  it("ends failed and rolled back, with libvirt's message in the outcome", async () => {
    const libvirt = "operation failed: job 'migration out' failed: Unable to write to socket: Connection reset by peer";
    const fake = fakeActivities({ samples: [precopy(1, 100), { ...endedOnSource(), jobError: libvirt }] });
    const outcome = await runMigration(ctx, fake, { vm: 'web-7', destination: 'host-a' });
    expect(outcome.outcome).toBe('failed');
    expect(outcome.error?.message).toContain(libvirt);
    expect(fake.count('rollbackMigration')).toBe(1);
  });
});
