import { Context } from '@temporalio/activity';
import type { ActivityName, FerryActivities } from '../model/activity-contract';

/**
 * Activities that heartbeat on their own, often enough for their heartbeat timeouts and with
 * details worth keeping (the watch's last sample, the recovery's step): the pulse leaves them
 * alone, since a heartbeat without details would replace theirs. (The roll-back heartbeats only
 * between its steps, so it gets the pulse.)
 */
export const SELF_HEARTBEATING: ReadonlySet<ActivityName> = new Set(['watchMigration', 'recoverPostcopy', 'startMigration']);

/**
 * Every other activity heartbeats once a second while it runs, so that with a short heartbeat
 * timeout (workflows/activity-proxies.ts) a worker that died in the middle of one is noticed in
 * seconds, whatever the activity's start-to-close: the fault matrix measured 60 s of waiting for a
 * steering call lost with its worker, and 2 minutes for a lost finish.
 */
export function withLivenessPulse(impl: FerryActivities, everyMs = 1_000): FerryActivities {
  const out: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const [name, fn] of Object.entries(impl) as Array<[ActivityName, (input: unknown) => Promise<unknown>]>) {
    if (SELF_HEARTBEATING.has(name)) {
      out[name] = fn;
      continue;
    }
    out[name] = async (input: unknown) => {
      let ctx: Context | undefined;
      try {
        ctx = Context.current();
      } catch {
        ctx = undefined; // called outside an activity (a test): nothing to pulse
      }
      // A local activity cannot heartbeat (the workflow's quick reads, workflows/activity-proxies.ts):
      // its liveness is the workflow task's, which the worker keeps alive while it runs.
      const pulse = ctx && !ctx.info.isLocal && setInterval(() => ctx!.heartbeat(), everyMs);
      try {
        return await fn(input);
      } finally {
        if (pulse) clearInterval(pulse);
      }
    };
  }
  return out as FerryActivities;
}
