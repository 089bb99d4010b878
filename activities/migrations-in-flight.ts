import { ApplicationFailure } from '@temporalio/activity';
import {
  countMigrationsInFlight, type InFlightCounts, type MigrationsInFlightInput,
} from '../model/migrations-in-flight';
import type { ActivityDeps } from './deps';

/**
 * Every other migration in flight, as Temporal's visibility lists the running LiveMigrations
 * (their FerrySource, FerryDestination and FerryPhase), counted for admission by the pure
 * model/migrations-in-flight.ts; with the inventory's own limits of the hosts that have one. A
 * read: idempotent, safe to retry. Visibility is eventually consistent (a migration that has just
 * started or ended may show a moment late): the counts are a fact of the moment, and admission a
 * soft limit that two migrations deciding in the same second may both pass.
 *
 * Visibility that does not answer fails the attempt as 'VisibilityUnavailable' (retryable): the
 * caller's wait for admission goes on and says so; nothing is admitted on counts not read.
 */
export function migrationsInFlightActivities(deps: ActivityDeps) {
  async function migrationsInFlight(input: MigrationsInFlightInput): Promise<InFlightCounts> {
    let running;
    try {
      running = await deps.visibility.runningMigrations();
    } catch (err) {
      throw ApplicationFailure.create({
        type: 'VisibilityUnavailable',
        message: `cannot list the running migrations from Temporal's visibility: ${(err as Error).message}`,
      });
    }
    const hostLimits: InFlightCounts['hostLimits'] = {};
    for (const h of deps.inventory.hosts) {
      if (h.limits?.maxOutgoingMigrations === undefined && h.limits?.maxIncomingMigrations === undefined) continue;
      hostLimits[h.name] = { maxOutgoing: h.limits.maxOutgoingMigrations ?? null, maxIncoming: h.limits.maxIncomingMigrations ?? null };
    }
    return countMigrationsInFlight(running, input.excludeWorkflowIds, hostLimits);
  }
  return { migrationsInFlight };
}
