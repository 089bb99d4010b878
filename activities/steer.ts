import type { ApplyActionInput } from '../model/activity-contract';
import type { ActivityDeps } from './deps';
import { ErrorCode, MigrateMaxSpeedFlags, isLibvirtError } from './libvirt';
import { guarded } from './guard';
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
        case 'resume-and-abort': {
          // Through the guard: an abort once post-copy may have begun would lose the guest.
          const target = { vmUuid: input.vm.uuid, source: input.source, destination: input.destination };
          const r = await guarded(deps, target, 'abort-job', async () => c.domainAbortJob(dom));
          if (!r.done) return `not applied: ${r.refusal.why}`;
          // The guest ferry paused is resumed by the roll-back, once the job is over (guarded too).
          return a.kind === 'abort' ? 'job aborted' : 'job aborted; the roll-back resumes the guest on the source';
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
