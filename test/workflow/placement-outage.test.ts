/**
 * Placement down at finish: the migration completed on the hosts, so it is reported completed;
 * dropping the migration consumer waits for Placement ("waiting for Placement" in the progress),
 * and a failure no retry fixes is recorded without changing the outcome. Both failed before the
 * bookkeeping left finishMigration (the whole finish failed with Placement).
 *
 * Placement down at the claim, its compensation, or roll-back's revert: the same wait shows in
 * the progress (verdict, and placementWait with what waits, the error and since when), is cleared
 * once Placement answers, and never changes the outcome; a claim gives up after
 * policy.placement.claimWaitSeconds, naming Placement. Before, the activity retry policies waited
 * unseen: the progress said 'claiming' or 'rolling-back' and nothing else.
 */
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClaimInput, RollbackInput, RollbackResult } from '../../model/activity-contract';
import type { Progress } from '../../model/types';
import { progressQuery } from '../../workflows/definitions';
import { endedOnDestination, fakeActivities, hardFailure, precopy, refusal } from './support/fake-activities';
import { failureChain, startWorkflowTestContext, withWorker, type WorkflowTestContext } from './support/workflow-env';

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

const down = (what: string) => ApplicationFailure.create({
  type: 'PlacementUnavailable', nonRetryable: false,
  message: `${what}: Placement at http://127.0.0.1:8778 does not answer; waiting for Placement (retried until it answers)`,
});

/** Polls the progress until `ok` (a query may meet the run between tasks: retried). */
async function progressWhen(handle: WorkflowHandle, ok: (p: Progress) => boolean): Promise<Progress | undefined> {
  for (let i = 0; i < 300; i++) {
    const p = await handle.query(progressQuery).catch(() => undefined);
    if (p && ok(p)) return p;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

const waiting = (p: Progress) => p.verdict === 'waiting for Placement' && !!p.placementWait;

describe('Placement down at the claim', () => {
  it('the claim waits, shown in the progress (phase claiming, what, error, since); Placement answers after 4 failures; the migration completes and the wait is cleared', async () => {
    const fake = fakeActivities({
      samples: [precopy(1, 100), endedOnDestination()],
      overrides: {
        claim: async (input: ClaimInput, call: number) => {
          if (call <= 4) throw down(`claim ${input.destination} for web-7`);
          return { outcome: 'claimed', detail: `claimed on ${input.destination}` };
        },
      },
    });
    const { shown, again, outcome, after } = await withWorker(ctx, fake, async (start) => {
      const { handle } = await start(REQUEST);
      const shown = await progressWhen(handle, waiting);
      // Placement still down at the workflow's next try: the same wait, the same since.
      const again = await progressWhen(handle, (p) => fake.count('claim') >= 4 && waiting(p));
      const outcome = await handle.result();
      return { shown, again, outcome, after: await handle.query(progressQuery) };
    });
    expect(shown).toMatchObject({
      phase: 'claiming', verdict: 'waiting for Placement',
      placementWait: { what: 'claiming host-a for web-7', error: expect.stringMatching(/does not answer/) },
    });
    expect(Date.parse(shown!.placementWait!.since)).not.toBeNaN();
    expect(again!.placementWait!.since).toBe(shown!.placementWait!.since);
    expect(outcome.outcome).toBe('completed');
    expect(fake.count('claim')).toBe(5); // 3 quick attempts, the workflow's back-off, then Placement answers
    expect(fake.count('revertClaim')).toBe(0);
    const actions = outcome.decisions.map((d) => d.action);
    expect(actions.slice(actions.indexOf('waiting-for-placement'))).toEqual(expect.arrayContaining(['placement-back', 'claim']));
    expect(after.placementWait).toBeNull();
  }, 60_000);

  it('Placement down beyond policy.placement.claimWaitSeconds: the migration fails naming Placement; the claim is compensated, nothing prepared', async () => {
    const fake = fakeActivities({
      samples: [],
      overrides: { claim: async (input: ClaimInput) => { throw down(`claim ${input.destination} for web-7`); } },
    });
    const { shown, err } = await withWorker(ctx, fake, async (start) => {
      const { handle } = await start({ ...REQUEST, policy: { placement: { claimWaitSeconds: 2 } } });
      const shown = await progressWhen(handle, waiting);
      return { shown, err: await handle.result().then(() => undefined, (e: unknown) => e) };
    });
    expect(shown).toMatchObject({ phase: 'claiming', placementWait: { what: 'claiming host-a for web-7' } });
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const chain = failureChain(err);
    expect(chain[1]).toMatchObject({
      name: 'ApplicationFailure', type: 'PlacementUnavailable', nonRetryable: true,
      message: expect.stringMatching(/^claiming host-a for web-7: Placement did not answer for \d+ s \(the limit is 2 s\): .*does not answer/),
    });
    expect(chain.map((l) => l.name)).toEqual(['WorkflowFailedError', 'ApplicationFailure', 'ActivityFailure', 'ApplicationFailure']);
    expect(fake.count('claim')).toBe(6);
    expect(fake.count('revertClaim')).toBe(1);
    expect(fake.count('prepareDestination')).toBe(0);
  }, 60_000);

  it("the claim's compensation waits for Placement, shown in the progress; the workflow still fails with the claim's refusal", async () => {
    const fake = fakeActivities({
      samples: [],
      overrides: {
        claim: async () => { throw refusal('destination host-a has no room for VCPU:1,MEMORY_MB:128 in Placement'); },
        revertClaim: async (_input, call: number) => { if (call <= 4) throw down('revert the claim'); return 'reverted'; },
      },
    });
    const { shown, err } = await withWorker(ctx, fake, async (start) => {
      const { handle } = await start(REQUEST);
      const shown = await progressWhen(handle, waiting);
      return { shown, err: await handle.result().then(() => undefined, (e: unknown) => e) };
    });
    expect(shown).toMatchObject({ phase: 'claiming', placementWait: { what: 'moving the allocations back (the claim failed)', error: expect.stringMatching(/^revert the claim: /) } });
    const chain = failureChain(err);
    expect(chain.map((l) => l.name)).toEqual(['WorkflowFailedError', 'ActivityFailure', 'ApplicationFailure']);
    expect(chain[2]).toMatchObject({ type: 'Refused', message: expect.stringMatching(/no room/) });
    expect(fake.count('revertClaim')).toBe(5);
  }, 60_000);
});

describe('Placement down while rolling back', () => {
  it("the hosts are rolled back and the allocations wait for Placement, shown in the progress; the outcome stays 'failed' with its cause; the wait is cleared", async () => {
    const fake = fakeActivities({
      samples: [],
      overrides: {
        prepareDestination: async () => { throw hardFailure('vPMEM path /dev/pmem0 has no counterpart on host-a', 'Refused'); },
        rollbackMigration: async (input: RollbackInput): Promise<RollbackResult> => ({
          outcome: 'rolled-back', situation: 'not-started-or-rolled-back', next: 'roll-back', hosts: { source: 'running (Booted)', destination: 'absent' },
          ...(input.placementOutage === 'report'
            ? { steps: ['allocations: not moved back yet, waiting for Placement'], placementWait: down('moving the allocations back').message }
            : { steps: ['allocations: reverted'] }),
        }),
        revertClaim: async (_input, call: number) => { if (call <= 2) throw down('revert the claim'); return 'reverted'; },
      },
    });
    const { shown, outcome, after } = await withWorker(ctx, fake, async (start) => {
      const { handle } = await start(REQUEST);
      const shown = await progressWhen(handle, waiting);
      const outcome = await handle.result();
      return { shown, outcome, after: await handle.query(progressQuery) };
    });
    expect(shown).toMatchObject({
      phase: 'rolling-back', verdict: 'waiting for Placement',
      placementWait: { what: 'moving the allocations back (roll-back)', error: expect.stringMatching(/^moving the allocations back: .*does not answer/) },
    });
    expect(outcome).toMatchObject({ outcome: 'failed', error: { message: 'vPMEM path /dev/pmem0 has no counterpart on host-a' } });
    expect(fake.inputsOf('rollbackMigration')[0]!.placementOutage).toBe('report');
    expect(fake.count('revertClaim')).toBe(3);
    const actions = outcome.decisions.map((d) => d.action);
    expect(actions.slice(actions.indexOf('roll-back'))).toEqual(['roll-back', 'waiting-for-placement', 'placement-back', 'revert-claim']);
    expect(outcome.decisions.at(-1)!.reason).toBe('allocations: reverted');
    expect(after).toMatchObject({ phase: 'done', placementWait: null });
  }, 60_000);
});
