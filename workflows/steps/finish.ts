import { upsertSearchAttributes } from '@temporalio/workflow';
import { FerryOutcome, FerryPhase } from '../../model/search-attributes';
import type { Outcome } from '../../model/types';
import { finishMigration, guestStallSince } from '../activity-proxies';
import { enterPhase, type Migration, type MigrationInFlight } from '../migration-state';
import { outcomeOf } from '../outcome';

/**
 * Step 6: both hosts agree the guest runs on the destination (the activity refuses otherwise and
 * is retried patiently); final stats from the source's completed job; the migration consumer's
 * allocation dropped; the source cleaned. Then the guest-felt stall (lab only).
 */
export async function finish(m: Migration, flight: MigrationInFlight): Promise<Outcome> {
  enterPhase(m, 'finishing');
  const fin = await finishMigration({ migrationId: flight.migrationId, vm: flight.vm, source: flight.source, destination: flight.destination });
  const stall = await guestStallSince({ vmName: flight.vm.name, mark: flight.guestMark });
  m.rec.done(Date.now());
  upsertSearchAttributes([{ key: FerryPhase, value: 'done' }, { key: FerryOutcome, value: 'completed' }]);
  return outcomeOf(m, flight, 'completed', {
    downtimeMs: fin.stats.downtimeMs, bytes: fin.stats.bytes, iterations: fin.stats.iterations, guestMaxStallMs: stall, hosts: fin.hosts,
    postcopyRequests: fin.stats.postcopyRequests,
  });
}
