/**
 * The operator's interface of a running LiveMigration: updates (abort, forceComplete,
 * setMaxDowntime, setBandwidth) whose validators refuse with the reason, and queries (progress,
 * policy, decisions). The watch is held at gates so that each update meets a known phase.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConvergencePolicySchema } from '../../workflows/convergence';
import {
  abortUpdate, decisionsQuery, forceCompleteUpdate, policyQuery, progressQuery, setBandwidthUpdate, setMaxDowntimeUpdate,
} from '../../workflows/definitions';
import type { Progress } from '../../model/types';
import {
  Gate, endedOnDestination, fakeActivities, postcopy, precopy, view,
} from './support/fake-activities';
import { failureChain, startWorkflowTestContext, withWorker, type WorkflowTestContext } from './support/workflow-env';

let ctx: WorkflowTestContext;
beforeAll(async () => { ctx = await startWorkflowTestContext(); });
afterAll(async () => { await ctx?.env.teardown(); });

const REQUEST = { vm: 'web-7', destination: 'host-a' };

/** The validator's message of a refused update (the client gets WorkflowUpdateFailedError). */
async function refused(update: Promise<unknown>): Promise<string> {
  const err = await update.then((r) => { throw new Error(`expected a refusal, got ${JSON.stringify(r)}`); }, (e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  const chain = failureChain(err);
  return chain[chain.length - 1]!.message;
}

const kinds = (fake: ReturnType<typeof fakeActivities>) => fake.inputsOf('applyAction').map((a) => a.action);

describe('abort', () => {
  it('accepted in pre-copy: the job is aborted, rolled back, outcome rolled_back; a second abort is refused', async () => {
    const hold = new Gate(precopy(1, 90));
    const fake = fakeActivities({ postcopySupported: false, samples: [precopy(1, 100), hold, precopy(1, 80)] });
    const outcome = await withWorker(ctx, fake, async (start) => {
      const { handle } = await start(REQUEST);
      await hold.reached;
      const accepted = await handle.executeUpdate(abortUpdate, { args: [{ reason: 'maintenance cancelled' }] });
      expect(accepted).toEqual({ accepted: true, message: 'aborting: ferry rolls the migration back (maintenance cancelled)' });
      expect(await refused(handle.executeUpdate(abortUpdate, { args: [{}] }))).toBe('abort refused: an abort is already under way');
      hold.release();
      return handle.result();
    });
    expect(kinds(fake).map((a) => a.kind)).toContain('abort');
    expect(fake.count('watchMigration')).toBe(2); // the abort is carried out at the next decision point
    expect(fake.count('rollbackMigration')).toBe(1);
    expect(fake.count('finishOnHosts')).toBe(0);
    expect(outcome).toMatchObject({ outcome: 'rolled_back', mode: 'precopy' });
    // The abort is an input of the round's decision, recorded with it.
    expect(outcome.decisions.find((d) => d.action === 'abort')?.reason).toMatch(/^operator abort \(maintenance cancelled\) -> abort the job and roll back/);
  });

  it('refused once post-copy is requested or running, naming post-copy; the migration completes', async () => {
    const requested = new Gate(postcopy(2, 40));
    const running = new Gate(postcopy(2, 20));
    const fake = fakeActivities({ samples: [precopy(1, 100), precopy(2, 60), requested, running, endedOnDestination()] });
    const outcome = await withWorker(ctx, fake, async (start) => {
      const { handle } = await start(REQUEST);
      await requested.reached; // start-postcopy applied, not yet confirmed by a sample
      expect(await refused(handle.executeUpdate(abortUpdate, { args: [{}] }))).toMatch(/^abort refused: the migration is in post-copy; after the switch to post-copy the VM can only move forward/);
      expect(await refused(handle.executeUpdate(forceCompleteUpdate, { args: [{}] }))).toBe('force-complete refused: already switching to or running in post-copy');
      requested.release();
      await running.reached;
      expect(await refused(handle.executeUpdate(abortUpdate, { args: [{ reason: 'too slow' }] }))).toMatch(/in post-copy/);
      expect(await refused(handle.executeUpdate(setMaxDowntimeUpdate, { args: [{ ms: 500 }] }))).toBe('setMaxDowntime refused: the migration is in post-copy');
      running.release();
      return handle.result();
    });
    expect(outcome).toMatchObject({ outcome: 'completed', mode: 'postcopy' });
    expect(kinds(fake).map((a) => a.kind)).not.toContain('abort');
    expect(fake.count('rollbackMigration')).toBe(0);
  });
});

describe('forceComplete', () => {
  it('accepted in pre-copy when post-copy is usable: start-postcopy at the next decision point', async () => {
    const hold = new Gate(precopy(1, 90));
    const fake = fakeActivities({ samples: [precopy(1, 100), hold, postcopy(1, 50), endedOnDestination()] });
    const outcome = await withWorker(ctx, fake, async (start) => {
      const { handle } = await start(REQUEST);
      await hold.reached;
      expect(await handle.executeUpdate(forceCompleteUpdate, { args: [{}] })).toEqual({ accepted: true, message: 'start post-copy' });
      expect(kinds(fake).map((a) => a.kind)).not.toContain('start-postcopy');
      hold.release();
      return handle.result();
    });
    expect(kinds(fake).map((a) => a.kind)).toContain('start-postcopy');
    expect(outcome).toMatchObject({ outcome: 'completed', mode: 'postcopy' });
    expect(outcome.decisions.find((d) => d.action === 'start-postcopy')?.reason).toMatch(/operator force-complete -> start post-copy/);
  });

  it('accepted with post-copy not allowed: the guest is paused, the migration completes paused', async () => {
    const hold = new Gate(precopy(1, 90));
    const pausedSample = precopy(1, 30, { mode: 'paused', source: { ...view.sourceMigrating(), domain: { state: 'paused', reason: 'User' } } });
    const fake = fakeActivities({ samples: [precopy(1, 100), hold, pausedSample, endedOnDestination()] });
    const outcome = await withWorker(ctx, fake, async (start) => {
      const { handle } = await start({ ...REQUEST, policy: { postcopy: { allowed: false } } });
      await hold.reached;
      expect(await handle.executeUpdate(forceCompleteUpdate, { args: [{}] })).toEqual({ accepted: true, message: 'pause the guest' });
      hold.release();
      return handle.result();
    });
    expect(kinds(fake).map((a) => a.kind)).toContain('pause');
    expect(outcome).toMatchObject({ outcome: 'completed', mode: 'paused' });
  });

  it('refused when neither post-copy nor pausing is allowed, saying why', async () => {
    const hold = new Gate(precopy(1, 90));
    const fake = fakeActivities({ samples: [precopy(1, 100), hold, endedOnDestination()] });
    await withWorker(ctx, fake, async (start) => {
      const { handle } = await start({ ...REQUEST, policy: { postcopy: { allowed: false }, pause: { allowed: false } } });
      await hold.reached;
      expect(await refused(handle.executeUpdate(forceCompleteUpdate, { args: [{}] }))).toBe(
        'force-complete refused: post-copy not allowed by policy and pausing the guest not allowed by policy',
      );
      expect(await refused(handle.executeUpdate(forceCompleteUpdate, { args: [{ now: true } as never] }))).toMatch(/now: unknown field/);
      hold.release();
      await handle.result();
    });
    expect(kinds(fake).map((a) => a.kind)).not.toContain('pause');
    expect(kinds(fake).map((a) => a.kind)).not.toContain('start-postcopy');
  });
});

describe('setMaxDowntime and setBandwidth', () => {
  it('refuse invalid input naming the field; valid values reach QEMU at the next decision point', async () => {
    const hold = new Gate(precopy(1, 90));
    const fake = fakeActivities({ postcopySupported: false, samples: [precopy(1, 100), hold, precopy(1, 80), endedOnDestination()] });
    const outcome = await withWorker(ctx, fake, async (start) => {
      const { handle } = await start(REQUEST);
      await hold.reached;
      const bad = (args: unknown) => refused(handle.executeUpdate(setMaxDowntimeUpdate, { args: [args as never] }));
      expect(await bad({ ms: 0 })).toBe('invalid setMaxDowntime input: ms: must be at least 1 (got 0)');
      expect(await bad({ ms: 'x' })).toBe('invalid setMaxDowntime input: ms: must be a number (got "x")');
      expect(await bad({ ms: 1.5 })).toMatch(/^invalid setMaxDowntime input: ms: must be an integer/);
      expect(await bad({ msec: 5 })).toMatch(/msec: unknown field \(allowed fields: ms\)/);
      const badBw = (args: unknown) => refused(handle.executeUpdate(setBandwidthUpdate, { args: [args as never] }));
      expect(await badBw({ mibps: -1 })).toBe('invalid setBandwidth input: mibps: must be at least 1 (got -1)');
      expect(await badBw({})).toMatch(/^invalid setBandwidth input: mibps: is required/);

      expect(await handle.executeUpdate(setMaxDowntimeUpdate, { args: [{ ms: 700 }] })).toEqual({
        accepted: true, message: 'max downtime will be 700 ms from the next decision point',
      });
      expect(await handle.executeUpdate(setBandwidthUpdate, { args: [{ mibps: 32 }] })).toEqual({
        accepted: true, message: 'bandwidth will be 32 MiB/s from the next decision point',
      });
      // Nothing reaches QEMU before the next sample.
      expect(kinds(fake)).not.toContainEqual({ kind: 'set-max-downtime', ms: 700 });
      hold.release();
      return handle.result();
    });
    expect(kinds(fake)).toContainEqual({ kind: 'set-max-downtime', ms: 700 });
    expect(kinds(fake)).toContainEqual({ kind: 'set-bandwidth', mibps: 32 });
    expect(kinds(fake).filter((a) => a.kind === 'set-bandwidth')).toHaveLength(1);
    expect(outcome.outcome).toBe('completed');
    expect(outcome.decisions.find((d) => d.action === 'set-bandwidth')?.reason).toMatch(/operator sets bandwidth - -> 32 MiB\/s/);
  });

  it('no update is possible once the migration is over', async () => {
    const fake = fakeActivities({ postcopySupported: false, samples: [precopy(1, 10), endedOnDestination()] });
    await withWorker(ctx, fake, async (start) => {
      const { handle } = await start(REQUEST);
      await handle.result();
      for (const send of [
        () => handle.executeUpdate(abortUpdate, { args: [{}] }),
        () => handle.executeUpdate(setMaxDowntimeUpdate, { args: [{ ms: 500 }] }),
        () => handle.executeUpdate(setBandwidthUpdate, { args: [{ mibps: 10 }] }),
      ]) {
        await expect(send()).rejects.toThrow(/completed|closed|over/i);
      }
    });
  });
});

describe('queries', () => {
  it('progress never decreases over a saw-tooth of remaining bytes, and reaches 100 only when done', async () => {
    // remaining (of 128 MiB): each new iteration re-sends dirtied pages, so it jumps back up.
    const remaining = [120, 64, 96, 40, 80, 24, 56, 8];
    const gates = remaining.map((r, i) => new Gate(precopy(1 + Math.floor(i / 2), r)));
    const fake = fakeActivities({ postcopySupported: false, samples: [...gates, endedOnDestination()] });
    const seen: Progress[] = [];
    const final = await withWorker(ctx, fake, async (start) => {
      const { handle } = await start(REQUEST);
      for (const g of gates) {
        await g.reached;
        seen.push(await handle.query(progressQuery));
        g.release();
      }
      await handle.result();
      return handle.query(progressQuery);
    });
    const percents = seen.map((p) => p.percent);
    // Each gate shows the progress after the samples before it.
    const raw = [0, ...remaining.slice(0, -1).map((r) => Math.floor(100 - (100 * r) / 128))];
    expect(raw.some((p, i) => i > 0 && p < raw[i - 1]!)).toBe(true); // the input does go backwards
    for (let i = 1; i < percents.length; i++) expect(percents[i]).toBeGreaterThanOrEqual(percents[i - 1]!);
    expect(percents[percents.length - 1]).toBe(Math.max(...raw));
    expect(Math.max(...percents)).toBeLessThanOrEqual(99);
    expect(seen[seen.length - 1]).toMatchObject({ phase: 'pre-copy', source: 'host-c', destination: 'host-a', mode: 'precopy' });
    expect(final).toMatchObject({ phase: 'done', percent: 100, etaMs: 0 });
  });

  it('policy returns the resolved policy with the overrides applied; decisions return what was decided and why', async () => {
    const hold = new Gate(precopy(1, 90));
    const fake = fakeActivities({ samples: [precopy(1, 100), hold, endedOnDestination()] });
    const overrides = { postcopy: { afterIteration: 3 }, downtime: { maxMs: 1500 }, completion: { action: 'force-complete' as const } };
    await withWorker(ctx, fake, async (start) => {
      const { handle } = await start({ ...REQUEST, policy: overrides });
      await hold.reached;
      const policy = await handle.query(policyQuery);
      expect(policy).toEqual(ConvergencePolicySchema.parse(overrides));
      expect(policy).toMatchObject({ postcopy: { allowed: true, afterIteration: 3 }, downtime: { initialMs: 100, maxMs: 1500 }, completion: { action: 'force-complete', secondsPerGiB: 150 } });

      const decisions = await handle.query(decisionsQuery);
      expect(decisions.map((d) => d.action)).toEqual(['choose-destination', 'resolve-policy', 'admission', 'claim', 'prepare-destination', 'start', 'set-max-downtime']);
      expect(decisions.find((d) => d.action === 'choose-destination')!.inputs).toEqual({ destination: 'host-a', how: 'checked' });
      expect(decisions.find((d) => d.action === 'resolve-policy')!.inputs).toEqual({ postcopyEligible: true, postcopyUsable: true });
      const ramp = decisions.find((d) => d.action === 'set-max-downtime')!;
      expect(ramp.inputs).toMatchObject({ ms: 100, iteration: 1, maxDowntimeMs: 100 });
      expect(ramp.reason).toMatch(/max downtime 100 ms to start/);
      for (const d of decisions) expect(d.atMs).toBeGreaterThanOrEqual(0);
      hold.release();
      await handle.result();
    });
  });
});
