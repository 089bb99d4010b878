/**
 * A post-copy recovery that cannot go on escalates: the migration waits for an operator in phase
 * 'escalated' (progress says why, FerryPhase is searchable), nothing is destroyed or rolled back,
 * and a resumeRecovery update starts a fresh round of attempts. The update is refused otherwise.
 * A long wait continues as new (the history stays bounded) and the new run is the same escalation.
 */
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { progressQuery, resumeRecoveryUpdate } from '../../workflows/definitions';
import type { RecoverResult } from '../../model/activity-contract';
import { ConvergencePolicySchema } from '../../model/convergence-policy';
import { FerryPhase } from '../../model/search-attributes';
import type { Progress } from '../../model/types';
import { initialControllerState } from '../../workflows/convergence';
import type { MigrationInFlight, RecoveryInFlight } from '../../workflows/migration-state';
import { Gate, endedOnDestination, fakeActivities, postcopy, postcopyBroken, precopy, type FakeActivities } from './support/fake-activities';
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
      overrides: { recoverPostcopy: async (input) => (operatorAsked && input.attemptsSoFar === 0 ? resumed : exhausted) },
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

const REQUEST = { vm: 'web-7', destination: 'host-a' };

/** The flight of a run continued in post-copy (as the watch loop's continue-as-new hands it on). */
function postcopyFlight(fake: FakeActivities, extra: Partial<MigrationInFlight> = {}): MigrationInFlight {
  const policy = ConvergencePolicySchema.parse({});
  return {
    migrationId: '0e5ca1a7-0000-4000-8000-000000000001', vm: fake.vm, source: 'host-c', destination: 'host-a', destXml: '<domain/>',
    postcopyEligible: true, guestMark: null, startedAtMs: Date.now() - 60_000, controller: { ...initialControllerState(policy), phase: 'postcopy' },
    percent: 70, decisions: [], lastIteration: 2, pausedByUs: false, ...extra,
  };
}

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, tries = 300): Promise<T> {
  let v = await read();
  for (let i = 0; i < tries && !ok(v); i++) {
    await new Promise((r) => setTimeout(r, 100));
    v = await read();
  }
  if (!ok(v)) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
  return v;
}

/** resumeRecovery, sent again if it met a run that was just continuing as new. */
async function resumeRecovery(handle: WorkflowHandle): Promise<{ accepted: boolean }> {
  for (let i = 0; ; i++) {
    try {
      return await handle.executeUpdate(resumeRecoveryUpdate, { args: [{}] });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError || i >= 5) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/*
 * The fakes answer 'resumed' only to the operator's fresh round (attemptsSoFar 0 once the operator
 * asked), never to an escalated observation round that happens to run between the test setting
 * its flag and the update arriving: that race once let a migration recover without the operator.
 */
const firstEscalate = (call: number): RecoverResult => ({ ...exhausted, attempts: call === 1 ? 10 : 0 });

describe('a long escalation continues as new', () => {
  it('escalated for many rounds: continues as new; the new run is the same escalation (phase, progress, FerryPhase); resumeRecovery to it completes the migration', async () => {
    let operatorAsked = false;
    const fake = fakeActivities({
      samples: [postcopyBroken(2, 30), postcopy(2, 10), endedOnDestination()],
      overrides: { recoverPostcopy: async (input, call) => (operatorAsked && input.attemptsSoFar === 0 ? resumed : firstEscalate(call)) },
    });
    // Tests lower the limits through the flight (a new run's are the defaults: 15 s, 5000 events).
    const resume = postcopyFlight(fake, { limits: { escalatedObserveMs: 300, escalatedHistoryEvents: 100 } });
    const seen = await withWorker(ctx, fake, async (start) => {
      const { handle, workflowId } = await start(REQUEST, { resume });
      const firstRun = ctx.env.client.workflow.getHandle(workflowId, handle.firstExecutionRunId);
      const before = await until('the escalation', () => firstRun.query(progressQuery), (p) => p.phase === 'escalated');
      const roundsBefore = fake.count('recoverPostcopy');
      await until('the continue-as-new', async () => (await firstRun.describe()).status.name, (s) => s === 'CONTINUED_AS_NEW');
      const roundsInFirstRun = fake.count('recoverPostcopy');
      const after: Progress = await handle.query(progressQuery);
      const desc = await handle.describe();
      operatorAsked = true;
      const accepted = await resumeRecovery(handle);
      const outcome = await handle.result();
      return { before, after, roundsBefore, roundsInFirstRun, newRunId: desc.runId, firstRunId: handle.firstExecutionRunId, phaseAttr: desc.typedSearchAttributes.get(FerryPhase), accepted, outcome };
    });
    expect(seen.roundsInFirstRun).toBeGreaterThanOrEqual(seen.roundsBefore + 3); // many rounds escalated before the cut
    expect(seen.newRunId).not.toBe(seen.firstRunId);
    expect(seen.after.phase).toBe('escalated');
    expect(seen.after.escalation).toEqual(seen.before.escalation); // the same escalation: reason, why, since
    expect(seen.phaseAttr).toBe('escalated');
    expect(seen.accepted.accepted).toBe(true);
    expect(seen.outcome.outcome).toBe('completed');
    const actions = seen.outcome.decisions.map((d) => d.action);
    expect(actions).toEqual(expect.arrayContaining(['continue-as-new', 'resume', 'resume-recovery', 'recovered']));
    expect(actions.filter((a) => a === 'escalate')).toHaveLength(1); // recorded once, not again by each run
    // The attempt count survives: 10 after the first call, in every run, until the operator's fresh round.
    const attempts = fake.inputsOf('recoverPostcopy').map((i) => i.attemptsSoFar);
    expect(attempts[0]).toBe(0);
    expect(attempts.slice(1, -1).every((a) => a === 10)).toBe(true);
    expect(attempts.at(-1)).toBe(0);
    // Straight back to the recovery: no watch round in a continued run before it.
    expect(fake.count('watchMigration')).toBe(3);
    expect(fake.count('rollbackMigration')).toBe(0);
    expect(fake.count('startMigration')).toBe(0);
  }, 120_000);

  it('a run continued while escalated is escalated from its first moment, with the carried attempts; resumeRecovery completes it', async () => {
    let operatorAsked = false;
    const fake = fakeActivities({
      samples: [postcopy(2, 10), endedOnDestination()],
      overrides: { recoverPostcopy: async (input) => (operatorAsked && input.attemptsSoFar === 0 ? resumed : { ...exhausted, attempts: 0 }) },
    });
    const escalation = { reason: 'attempts-exhausted', why: 'resumed 10 times, refused each time', since: '2026-01-02T03:04:05.000Z' };
    const recovery: RecoveryInFlight = { attempts: 10, escalation, lastNoted: 'escalate/attempts-exhausted', resumeRequested: false };
    const seen = await withWorker(ctx, fake, async (start) => {
      const { handle } = await start(REQUEST, { resume: postcopyFlight(fake, { recovery }) });
      const p = await handle.query(progressQuery);
      const desc = await handle.describe();
      await until('a recovery round', async () => fake.count('recoverPostcopy'), (n) => n >= 1);
      operatorAsked = true;
      const accepted = await handle.executeUpdate(resumeRecoveryUpdate, { args: [{}] });
      return { p, phaseAttr: desc.typedSearchAttributes.get(FerryPhase), accepted, outcome: await handle.result() };
    });
    expect(seen.p.phase).toBe('escalated');
    expect(seen.p.escalation).toEqual(escalation);
    expect(seen.phaseAttr).toBe('escalated');
    expect(seen.accepted.accepted).toBe(true);
    expect(seen.outcome.outcome).toBe('completed');
    expect(fake.names()[0]).toBe('recoverPostcopy'); // no watch before the recovery
    expect(fake.inputsOf('recoverPostcopy')[0]!.attemptsSoFar).toBe(10);
    expect(fake.inputsOf('recoverPostcopy').at(-1)!.attemptsSoFar).toBe(0);
    expect(seen.outcome.decisions.map((d) => d.action)).not.toContain('escalate'); // the same escalation, not a new one
  }, 60_000);

  it('a resumeRecovery accepted just before the cut is not lost: the new run acts on it at once', async () => {
    const fake = fakeActivities({ samples: [postcopy(2, 10), endedOnDestination()], overrides: { recoverPostcopy: async () => resumed } });
    const recovery: RecoveryInFlight = {
      attempts: 10, lastNoted: 'escalate/attempts-exhausted', resumeRequested: true,
      escalation: { reason: 'attempts-exhausted', why: 'resumed 10 times, refused each time', since: '2026-01-02T03:04:05.000Z' },
    };
    const outcome = await withWorker(ctx, fake, async (start) => (await start(REQUEST, { resume: postcopyFlight(fake, { recovery }) })).handle.result());
    expect(outcome.outcome).toBe('completed');
    expect(fake.inputsOf('recoverPostcopy')).toHaveLength(1);
    expect(fake.inputsOf('recoverPostcopy')[0]!.attemptsSoFar).toBe(0); // the operator's fresh round
    expect(outcome.decisions.map((d) => d.action)).toEqual(expect.arrayContaining(['resume', 'resume-recovery', 'recovered']));
  }, 60_000);
});
