import type { FerryActivities } from '../model/activity-contract';
import type { ActivityDeps } from './deps';
import { placementActivities } from './claims';
import { guardedActivities } from './contract-guard';
import { withLivenessPulse } from './liveness-pulse';
import { finishActivities } from './finish';
import { locateActivities } from './locate';
import { prepareActivities } from './prepare';
import { recoverActivities } from './recover';
import { rollbackActivities } from './rollback';
import { startActivities } from './start';
import { steerActivities } from './steer';
import { destinationChecks, sourceChecks } from './pre-checks';
import { drainFactsActivities } from './drain-facts';
import { drainPlacementActivities } from './drain-placement';
import { migrationsInFlightActivities } from './migrations-in-flight';
import { watchActivities } from './watch';
import { storageActivities } from './storage';
import { forecastFactsActivities } from './forecast-facts';

/**
 * Everything the worker registers: the implementation of model/activity-contract.ts, each input
 * and output checked against the contract's schemas at the boundary, and each heartbeating while
 * it runs (liveness-pulse.ts) so a worker lost in the middle of one is noticed in seconds.
 */
export function createActivities(deps: ActivityDeps): FerryActivities {
  return withLivenessPulse(guardedActivities({
    locateVm: locateActivities(deps),
    checkSource: sourceChecks(deps),
    checkDestination: destinationChecks(deps),
    ...storageActivities(deps),
    ...placementActivities(deps),
    ...prepareActivities(deps),
    ...startActivities(deps),
    ...watchActivities(deps),
    ...steerActivities(deps),
    ...recoverActivities(deps),
    ...finishActivities(deps),
    ...rollbackActivities(deps),
    ...drainFactsActivities(deps),
    ...drainPlacementActivities(deps),
    ...migrationsInFlightActivities(deps),
    ...forecastFactsActivities(deps),
    guestStallMark: async (input) => (deps.guestMeter ? deps.guestMeter.mark(input.vmName) : null),
    guestStallSince: async (input) =>
      deps.guestMeter && input.mark ? deps.guestMeter.stallSinceMs(input.vmName, input.mark) : null,
  }));
}

export type { FerryActivities };
