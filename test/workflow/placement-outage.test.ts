/**
 * Placement down at finish: the migration completed on the hosts, so it is reported completed;
 * dropping the migration consumer waits for Placement ("waiting for Placement" in the progress),
 * and a failure no retry fixes is recorded without changing the outcome. Both failed before the
 * bookkeeping left finishMigration (the whole finish failed with Placement).
 */
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { progressQuery } from '../../workflows/definitions';
import { endedOnDestination, fakeActivities, precopy } from './support/fake-activities';
import { startWorkflowTestContext, withWorker, type WorkflowTestContext } from './support/workflow-env';

let ctx: WorkflowTestContext;
beforeAll(async () => { ctx = await startWorkflowTestContext(); });
afterAll(async () => { await ctx?.env.teardown(); });

const REQUEST = { vm: 'web-7', destination: 'host-a' };
const unavailable = () => ApplicationFailure.create({ type: 'PlacementUnavailable', nonRetryable: false, message: 'dropping the migration consumer: Placement at http://127.0.0.1:8778 does not answer' });

describe('Placement down at finish', () => {
  it('the migration is completed; the drop waits for Placement, shown in the progress, then succeeds', async () => {
    let down = true;
    let sawWaiting = false;
    const fake = fakeActivities({
      samples: [precopy(1, 100), endedOnDestination()],
      overrides: {
        dropMigrationClaim: async () => { if (down) throw unavailable(); return true; },
      },
    });
    const outcome = await withWorker(ctx, fake, async (start) => {
      const { handle } = await start(REQUEST);
      for (let i = 0; i < 200 && !sawWaiting; i++) {
        const p = await handle.query(progressQuery).catch(() => undefined);
        sawWaiting = p?.verdict === 'waiting for Placement';
        if (!sawWaiting) await new Promise((r) => setTimeout(r, 100));
      }
      down = false;
      return handle.result();
    });
    expect(sawWaiting).toBe(true);
    expect(outcome.outcome).toBe('completed');
    expect(fake.count('finishOnHosts')).toBe(1);
    expect(fake.count('dropMigrationClaim')).toBeGreaterThan(3);
    const actions = outcome.decisions.map((d) => d.action);
    expect(actions).toContain('waiting-for-placement');
    expect(actions).toContain('placement-back');
  }, 60_000);

  it('a bookkeeping failure no retry fixes is recorded; the outcome stays completed', async () => {
    const fake = fakeActivities({
      samples: [precopy(1, 100), endedOnDestination()],
      overrides: {
        dropMigrationClaim: async () => { throw ApplicationFailure.create({ type: 'PlacementInconsistent', nonRetryable: true, message: 'the VM holds nothing in Placement' }); },
      },
    });
    const outcome = await withWorker(ctx, fake, async (start) => (await start(REQUEST)).handle.result());
    expect(outcome.outcome).toBe('completed');
    expect(outcome.decisions.find((d) => d.action === 'bookkeeping-failed')?.reason).toMatch(/the VM holds nothing in Placement/);
  });
});
