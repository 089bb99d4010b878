/**
 * A post-copy recovery that cannot go on escalates: the migration waits for an operator in phase
 * 'escalated' (progress says why, FerryPhase is searchable), nothing is destroyed or rolled back,
 * and a resumeRecovery update starts a fresh round of attempts. The update is refused otherwise.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { progressQuery, resumeRecoveryUpdate } from '../../workflows/definitions';
import type { RecoverResult } from '../../model/activity-contract';
import { Gate, endedOnDestination, fakeActivities, postcopy, postcopyBroken, precopy } from './support/fake-activities';
import { startWorkflowTestContext, withWorker, type WorkflowTestContext } from './support/workflow-env';

let ctx: WorkflowTestContext;
beforeAll(async () => { ctx = await startWorkflowTestContext(); });
afterAll(async () => { await ctx?.env.teardown(); });

const hosts = { source: 'paused (PostcopyFailed)', destination: 'running (PostcopyFailed)' };
const exhausted: RecoverResult = { outcome: 'escalate', reason: 'attempts-exhausted', why: 'resumed 10 times, refused each time', attempts: 10, errors: ['Unable to connect'], hosts };
const resumed: RecoverResult = { outcome: 'resumed', why: 'post-copy runs again', attempts: 1, errors: [], hosts: { source: 'paused (Postcopy)', destination: 'running (Postcopy)' } };

describe('escalated post-copy recovery', () => {
  it('waits for an operator, queryable and never destroying; resumeRecovery tries again and the migration completes', async () => {
    const inPostcopy = new Gate(postcopy(2, 30));
    let operatorAsked = false;
    const fake = fakeActivities({
      samples: [precopy(1, 100), precopy(2, 60), inPostcopy, postcopyBroken(2, 30), postcopy(2, 10), endedOnDestination()],
      overrides: { recoverPostcopy: async () => (operatorAsked ? resumed : exhausted) },
    });
    const outcome = await withWorker(ctx, fake, async (start) => {
      const { handle } = await start({ vm: 'web-7', destination: 'host-a' });
      await inPostcopy.reached;
      // Not escalated: the update is refused with the reason.
      const early = await handle.executeUpdate(resumeRecoveryUpdate, { args: [{}] }).then(() => null, (e: unknown) => e);
      expect(early).toBeInstanceOf(WorkflowUpdateFailedError);
      inPostcopy.release();
      let p = await handle.query(progressQuery);
      for (let i = 0; i < 100 && p.phase !== 'escalated'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        p = await handle.query(progressQuery);
      }
      expect(p.phase).toBe('escalated');
      expect(p.escalation).toMatchObject({ reason: 'attempts-exhausted', why: 'resumed 10 times, refused each time' });
      operatorAsked = true;
      const r = await handle.executeUpdate(resumeRecoveryUpdate, { args: [{}] });
      expect(r.accepted).toBe(true);
      return handle.result();
    });
    expect(outcome.outcome).toBe('completed');
    const actions = outcome.decisions.map((d) => d.action);
    expect(actions).toEqual(expect.arrayContaining(['escalate', 'resume-recovery', 'recovered']));
    expect(fake.count('rollbackMigration')).toBe(0);
    expect(fake.inputsOf('recoverPostcopy').at(-1)?.attemptsSoFar).toBe(0); // a fresh round after the operator
  }, 60_000);
});
