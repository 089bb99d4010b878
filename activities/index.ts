import type { ActivityDeps } from './deps';
import { placementActivities } from './claims';
import { finishActivities } from './finish';
import { migrationJobActivities } from './migration-job';
import { destinationChecks, sourceChecks } from './pre-checks';

/** Everything the worker registers. The workflow proxies these by name (`import type` only). */
export function createActivities(deps: ActivityDeps) {
  const job = migrationJobActivities(deps);
  return {
    checkSource: sourceChecks(deps),
    checkDestination: destinationChecks(deps),
    ...placementActivities(deps),
    prepareDestination: job.prepareDestination,
    startMigration: job.startMigration,
    watchMigration: job.watchMigration,
    applyAction: job.applyAction,
    recoverPostcopy: job.recoverPostcopy,
    ...finishActivities(deps),
    guestStallMark: async (input: { vmName: string }) => (deps.guestMeter ? deps.guestMeter.mark(input.vmName) : null),
    guestStallSince: async (input: { vmName: string; mark: Record<string, unknown> | null }) =>
      deps.guestMeter && input.mark ? deps.guestMeter.stallSinceMs(input.vmName, input.mark) : null,
  };
}

export type FerryActivities = ReturnType<typeof createActivities>;
