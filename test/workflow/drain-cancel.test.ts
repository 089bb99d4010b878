/**
 * How a drain ends other than done: cancelled by the operator (no new move starts, in-flight ones
 * finish, or abort where still safe), the workflow cancelled, or failed; in every case the room it
 * reserved is released. And a single migration into a host in maintenance is refused before
 * anything is claimed.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maintenanceRefusal } from '../../model/drain';
import { cancelDrainUpdate, drainProgressQuery, progressQuery } from '../../workflows/definitions';
import { DRAINED, drainFakes, drainVm, room, type DrainFake } from './support/drain-fakes';
import { withDrainWorker } from './support/drain-env';
import { fakeActivities, hardFailure, refusal } from './support/fake-activities';
import { migrationFailure, startWorkflowTestContext, type WorkflowTestContext } from './support/workflow-env';

let ctx: WorkflowTestContext;
beforeAll(async () => { ctx = await startWorkflowTestContext(); });
afterAll(async () => { await ctx?.env.teardown(); });

const threeVms = () => drainFakes({ vms: [drainVm('a', 128), drainVm('b', 256), drainVm('c', 512)], destinations: [room('host-a', 4096), room('host-b', 4096)] });

/** Every reservation made was released, each once it was made. */
function expectNothingHeld(fake: DrainFake): void {
  const reserved = fake.inputsOf('reserveRoom').map((r) => r.reservationId);
  const released = new Set(fake.inputsOf('releaseRoom').map((r) => r.reservationId));
  expect(reserved.length).toBeGreaterThan(0);
  for (const id of reserved) expect(released.has(id)).toBe(true);
}

describe('DrainHost: cancel', () => {
  it('mid-drain: no new move starts, the one in flight finishes, the report says so', async () => {
    const fake = threeVms();
    fake.hold('a');
    const report = await withDrainWorker(ctx, fake, async (start) => {
      const handle = await start({ host: DRAINED, limits: { maxParallel: 1 } });
      await fake.inFlight('a');
      const answer = await handle.executeUpdate(cancelDrainUpdate, { args: [{ reason: 'rack power work moved' }] });
      expect(answer.message).toMatch(/no new move starts; moves in flight finish/);
      const progress = await handle.query(drainProgressQuery);
      expect(progress).toMatchObject({ cancelRequested: true, counts: { inFlight: 1 } });
      // A second plain cancel says it is under way already.
      await expect(handle.executeUpdate(cancelDrainUpdate, { args: [{}] })).rejects.toThrow();
      fake.release('a');
      return handle.result();
    });
    expect(report.result).toBe('cancelled');
    expect(report.vms.map((v) => [v.vm.name, v.status])).toEqual([['a', 'moved'], ['b', 'cancelled'], ['c', 'cancelled']]);
    expect(report.vms[1]!.reason).toBe('cancelled before it started (rack power work moved)');
    expect(fake.count('checkSource')).toBe(1); // only a's migration ever ran
    expectNothingHeld(fake);
  });

  it('with abortInFlight: the migration in flight is asked to abort and rolls back; the report says aborted', async () => {
    const fake = threeVms();
    fake.hold('a');
    const report = await withDrainWorker(ctx, fake, async (start) => {
      const handle = await start({ host: DRAINED, limits: { maxParallel: 1 } });
      await fake.inFlight('a');
      await handle.executeUpdate(cancelDrainUpdate, { args: [{ abortInFlight: true }] });
      return handle.result();
    });
    expect(report.result).toBe('cancelled');
    const a = report.vms.find((v) => v.vm.name === 'a')!;
    expect(a.status).toBe('aborted');
    expect(a.attempts.map((x) => x.outcome)).toEqual(['rolled_back']);
    expect(a.reason).toMatch(/aborted as the drain was cancelled/);
    expect(fake.inputsOf('applyAction').map((x) => x.action.kind)).toContain('abort');
    expect(fake.count('rollbackMigration')).toBe(1);
    expectNothingHeld(fake);
  });

  it('with abortInFlight past the switch to post-copy: the abort is refused there, the move finishes and is reported moved', async () => {
    const fake = threeVms();
    fake.hold('a', 'postcopy');
    const report = await withDrainWorker(ctx, fake, async (start) => {
      const handle = await start({ host: DRAINED, limits: { maxParallel: 1 } });
      await fake.inFlight('a');
      // Let the child see post-copy before the abort arrives.
      const child = ctx.env.client.workflow.getHandle(`migrate-${fake.uuidOf('a')}`);
      for (let i = 0; (await child.query(progressQuery)).phase !== 'post-copy'; i++) {
        if (i > 200) throw new Error('the child never reached post-copy');
        await new Promise((r) => setTimeout(r, 50));
      }
      await handle.executeUpdate(cancelDrainUpdate, { args: [{ abortInFlight: true }] });
      await new Promise((r) => setTimeout(r, 500));
      fake.release('a');
      return handle.result();
    });
    expect(report.vms.map((v) => [v.vm.name, v.status])).toEqual([['a', 'moved'], ['b', 'cancelled'], ['c', 'cancelled']]);
    expect(fake.inputsOf('applyAction').map((x) => x.action.kind)).not.toContain('abort');
    expect(fake.count('rollbackMigration')).toBe(0);
    expectNothingHeld(fake);
    // The refusal is where an operator looks: the migration's own decisions.
    const outcome = await ctx.env.client.workflow.getHandle(`migrate-${fake.uuidOf('a')}`).result() as { decisions: Array<{ action: string; reason: string }> };
    expect(outcome.decisions.find((d) => d.action === 'abort-from-drain-refused')?.reason).toMatch(/abort refused: the migration is in post-copy/);
  });

  it('a cancel once the drain is over is refused, saying so', async () => {
    const fake = drainFakes({ vms: [drainVm('a', 128)], destinations: [room('host-a', 4096)] });
    await withDrainWorker(ctx, fake, async (start) => {
      const handle = await start({ host: DRAINED });
      await handle.result();
      await expect(handle.executeUpdate(cancelDrainUpdate, { args: [{}] })).rejects.toThrow();
    });
  });
});

describe('DrainHost: the room is released however the drain ends', () => {
  it('success: released as each move ends', async () => {
    const fake = threeVms();
    await withDrainWorker(ctx, fake, async (start) => (await start({ host: DRAINED })).result());
    expectNothingHeld(fake);
  });

  it('the workflow cancelled through Temporal: released in its non-cancellable finally', async () => {
    const fake = threeVms();
    fake.hold('a');
    fake.hold('b');
    const err = await withDrainWorker(ctx, fake, async (start) => {
      const handle = await start({ host: DRAINED, limits: { maxParallel: 1 } });
      await fake.inFlight('a');
      await handle.cancel();
      const e = await handle.result().then(() => null, (x: unknown) => x);
      fake.release('a');
      return e;
    });
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(fake.inputsOf('reserveRoom')).toHaveLength(3);
    expectNothingHeld(fake);
  });

  it('failed (Placement refused a release mid-drain): the rest is released on the way out', async () => {
    const fake = threeVms();
    let first = true;
    fake.activities.releaseRoom = async (input) => {
      fake.calls.push({ name: 'releaseRoom', input });
      if (first) {
        first = false;
        throw hardFailure('Placement refused the write', 'PlacementRejected');
      }
      return true;
    };
    const err = await withDrainWorker(ctx, fake, async (start) => (await start({ host: DRAINED, limits: { maxParallel: 1 } })).result().then(() => null, (x: unknown) => x));
    expect(err).toBeInstanceOf(WorkflowFailedError);
    // The refused one was asked again on the way out, and every other one released.
    expectNothingHeld(fake);
    const ids = fake.inputsOf('releaseRoom').map((r) => r.reservationId);
    expect(ids.filter((id) => id === ids[0]).length).toBe(2);
  });
});

describe('a host in maintenance', () => {
  it('a single migration into it is refused at the pre-checks, before anything is claimed', async () => {
    const fake = fakeActivities({
      samples: [],
      overrides: { chooseDestinationHost: async (input) => { throw refusal(maintenanceRefusal(input.requested!.host)); } },
    });
    const chain = await migrationFailure(ctx, fake, { vm: 'web-7', destination: 'host-a' });
    expect(chain.map((c) => c.message).join(' | ')).toMatch(/destination host-a is in maintenance .*ferry host release host-a/);
    expect(fake.count('claim')).toBe(0);
    expect(fake.count('startMigration')).toBe(0);
  });
});
