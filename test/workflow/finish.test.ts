/**
 * Finish: when the guard keeps the source's definition (the destination's guest was not yet
 * confirmed, or libvirt refused the undefine), the reason reaches the outcome's decisions, where
 * an operator reads it; before, it was only in the worker's log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endedOnDestination, fakeActivities, precopy } from './support/fake-activities';
import { startWorkflowTestContext, withWorker, type WorkflowTestContext } from './support/workflow-env';

let ctx: WorkflowTestContext;
beforeAll(async () => { ctx = await startWorkflowTestContext(); });
afterAll(async () => { await ctx?.env.teardown(); });

const REQUEST = { vm: 'web-7', destination: 'host-a' };

describe('finish keeps the source definition when the guard refuses', () => {
  it("the guard's note (why the source's definition was kept) is in the outcome's decisions", async () => {
    const note = 'source definition kept: the destination guest is paused (Migration), still incoming';
    const fake = fakeActivities({
      samples: [precopy(1, 100), endedOnDestination()],
      overrides: {
        finishOnHosts: async () => ({
          stats: { downtimeMs: 10, totalMs: 100, bytes: 1, iterations: 1, postcopyRequests: null },
          hosts: { source: 'shutoff (Migrated), still defined', destination: 'running (Migrated)' },
          notes: [note],
        }),
      },
    });
    const outcome = await withWorker(ctx, fake, async (start) => (await start(REQUEST)).handle.result());
    expect(outcome.outcome).toBe('completed');
    expect(outcome.decisions.filter((d) => d.action === 'source-kept').map((d) => d.reason)).toEqual([note]);
  }, 60_000);
});

describe('the guest-stall reading is off the critical path', () => {
  it('runs alongside the finish on the hosts: the two activities overlap in time', async () => {
    const span: Record<string, [number, number]> = {};
    const timed = async <T>(name: string, value: T): Promise<T> => {
      const t0 = Date.now();
      await new Promise((r) => setTimeout(r, 1_000));
      span[name] = [t0, Date.now()];
      return value;
    };
    const fake = fakeActivities({
      samples: [precopy(1, 100), endedOnDestination()],
      overrides: {
        finishOnHosts: async () => timed('finish', {
          stats: { downtimeMs: 10, totalMs: 100, bytes: 1, iterations: 1, postcopyRequests: null },
          hosts: { source: 'none', destination: 'running (Migrated)' },
        }),
        guestStallSince: async () => timed('stall', 42),
      },
    });
    const outcome = await withWorker(ctx, fake, async (start) => (await start(REQUEST)).handle.result());
    expect(outcome.outcome).toBe('completed');
    expect(outcome.guestMaxStallMs).toBe(42);
    const [f0, f1] = span.finish!;
    const [s0, s1] = span.stall!;
    expect(s0 < f1 && f0 < s1).toBe(true); // read in sequence, one would start after the other ended
  }, 60_000);
});
