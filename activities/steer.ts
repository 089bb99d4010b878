import type { ApplyActionInput } from '../model/activity-contract';
import type { ActivityDeps } from './deps';
import { ErrorCode, MigrateMaxSpeedFlags, isLibvirtError } from './libvirt';
import { sourceDomain } from './source-domain';

/** Steering the running job: max downtime, bandwidth, post-copy, pause, abort. */
export function steerActivities(deps: ActivityDeps) {
  async function applyAction(input: ApplyActionInput): Promise<string> {
    const { c, dom } = await sourceDomain(deps, input.source, input.vm.uuid);
    const a = input.action;
    try {
      switch (a.kind) {
        case 'set-max-downtime':
          await c.domainMigrateSetMaxDowntime(dom, a.ms);
          return `max downtime set to ${a.ms} ms`;
        case 'set-bandwidth':
          await c.domainMigrateSetMaxSpeed(dom, a.mibps);
          await c.domainMigrateSetMaxSpeed(dom, a.mibps, MigrateMaxSpeedFlags.Postcopy).catch(() => undefined);
          return `bandwidth set to ${a.mibps} MiB/s`;
        case 'start-postcopy':
          await c.domainMigrateStartPostCopy(dom);
          return 'switch to post-copy requested';
        case 'pause':
          await c.domainSuspend(dom);
          return 'guest paused: pre-copy finishes with the vCPUs stopped';
        case 'abort':
          await c.domainAbortJob(dom);
          return 'job aborted';
        case 'resume-and-abort': {
          await c.domainAbortJob(dom).catch(() => undefined);
          const st = await c.domainGetState(dom);
          if (st.stateName === 'paused') await c.domainResume(dom);
          return 'job aborted and the guest resumed on the source';
        }
      }
    } catch (err) {
      // The job may have ended between the decision and the call: report it, the watch sees why.
      if (isLibvirtError(err, ErrorCode.OperationInvalid)) return `not applied: ${(err as Error).message}`;
      throw err;
    }
  }
  return { applyAction };
}
