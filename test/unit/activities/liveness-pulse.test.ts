import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import type { FerryActivities } from '../../../model/activity-contract';
import { SELF_HEARTBEATING, withLivenessPulse } from '../../../activities/liveness-pulse';

/**
 * A worker lost in the middle of an activity is noticed within the heartbeat timeout only if the
 * activity heartbeats: every activity but those that heartbeat on their own pulses while it runs.
 */
const slow = (ms: number) => async () => {
  await new Promise((r) => setTimeout(r, ms));
  return 'done';
};

function fakeImpl(): FerryActivities {
  return { claim: slow(300), watchMigration: slow(300), applyAction: slow(300) } as unknown as FerryActivities;
}

async function heartbeatsDuring(name: keyof FerryActivities): Promise<{ result: unknown; beats: number }> {
  const env = new MockActivityEnvironment();
  let beats = 0;
  env.on('heartbeat', () => beats++);
  const wrapped = withLivenessPulse(fakeImpl(), 20);
  const result = await env.run(wrapped[name] as (i: unknown) => Promise<unknown>, {});
  return { result, beats };
}

describe('the liveness pulse', () => {
  it('an activity without heartbeats of its own heartbeats while it runs, and its result is unchanged', async () => {
    const { result, beats } = await heartbeatsDuring('claim');
    expect(result).toBe('done');
    expect(beats).toBeGreaterThanOrEqual(5);
  });

  it('stops when the activity returns', async () => {
    const env = new MockActivityEnvironment();
    let beats = 0;
    env.on('heartbeat', () => beats++);
    await env.run(withLivenessPulse(fakeImpl(), 20).applyAction as (i: unknown) => Promise<unknown>, {});
    const after = beats;
    await new Promise((r) => setTimeout(r, 150));
    expect(beats).toBe(after);
  });

  it('leaves alone the activities that heartbeat with their own details', async () => {
    expect(SELF_HEARTBEATING.has('watchMigration')).toBe(true);
    const { beats } = await heartbeatsDuring('watchMigration');
    expect(beats).toBe(0);
  });

  it("a local activity (the workflow's quick reads) does not heartbeat: it cannot", async () => {
    const env = new MockActivityEnvironment({ isLocal: true });
    let beats = 0;
    env.on('heartbeat', () => beats++);
    const result = await env.run(withLivenessPulse(fakeImpl(), 20).claim as (i: unknown) => Promise<unknown>, {});
    expect(result).toBe('done');
    expect(beats).toBe(0);
  });

  it('outside an activity (a direct call) it simply runs the function', async () => {
    await expect(withLivenessPulse(fakeImpl(), 20).claim({} as never)).resolves.toBe('done');
  });
});
