import { patched, upsertSearchAttributes } from '@temporalio/workflow';
import { FerryOutcome, FerryPhase } from '../../model/search-attributes';
import type { Outcome } from '../../model/types';
import { dropMigrationClaim, finishMigration, finishOnHosts, guestStallSince } from '../activity-proxies';
import { placementBookkeeping } from './bookkeeping';
import { blockMigrationCopies, enterPhase, type Migration, type MigrationInFlight } from '../migration-state';
import { outcomeOf } from '../outcome';

/**
 * Step 6: both hosts agree the guest runs on the destination (the activity refuses otherwise and
 * is retried patiently); final stats from the source's completed job; the source cleaned. Alongside,
 * the migration consumer's allocation is dropped (bookkeeping: a Placement outage is waited out
 * and never changes the outcome), and the guest-felt stall is read (lab only).
 *
 * The stall reading decides nothing and waits for the guest's meter to settle (one or two RTC
 * seconds after the switch-over): it runs alongside the finish and the bookkeeping, not after
 * them (runs begun before, patch 'finish-stall-alongside', read it last).
 */
export async function finish(m: Migration, flight: MigrationInFlight): Promise<Outcome> {
  enterPhase(m, 'finishing');
  // Block migration: the copied disks' source volumes go only through the guard's 'clean-source' verdict.
  const copies = blockMigrationCopies(flight);
  const where = {
    migrationId: flight.migrationId, vm: flight.vm, source: flight.source, destination: flight.destination,
    ...(copies.length ? { diskCopies: copies } : {}),
  };
  let fin;
  const stallAlongside = patched('finish-stall-alongside')
    ? guestStallSince({ vmName: flight.vm.name, mark: flight.guestMark })
    : undefined;
  if (patched('finish-then-bookkeeping')) {
    // The hosts decide the outcome; Placement's bookkeeping never changes it.
    const drop = () => placementBookkeeping(m, 'dropping the migration consumer', () => dropMigrationClaim({ migrationId: flight.migrationId, vmUuid: flight.vm.uuid }));
    // The watch already saw both hosts agree the guest switched (the situation table sent the
    // migration here, and it never goes back from here): the source's allocation, held by the
    // migration consumer, is dropped alongside the finish on the hosts, not after it (runs begun
    // before, patch 'finish-bookkeeping-alongside', dropped it after).
    const dropAlongside = patched('finish-bookkeeping-alongside') ? drop() : undefined;
    fin = await finishOnHosts(where);
    // The guard kept the source's definition (or libvirt refused to remove it): say so in the
    // outcome's decisions, where an operator looks, not only in the worker's log.
    for (const note of fin.notes ?? []) m.rec.decide(Date.now(), 'source-kept', note);
    if (fin.volumes?.length) m.rec.decide(Date.now(), 'source-volumes', fin.volumes.join('; '));
    await (dropAlongside ?? drop());
  } else {
    fin = await finishMigration(where);
  }
  const stall = await (stallAlongside ?? guestStallSince({ vmName: flight.vm.name, mark: flight.guestMark }));
  m.rec.done(Date.now());
  upsertSearchAttributes([{ key: FerryPhase, value: 'done' }, { key: FerryOutcome, value: 'completed' }]);
  return outcomeOf(m, flight, 'completed', {
    downtimeMs: fin.stats.downtimeMs, bytes: fin.stats.bytes, iterations: fin.stats.iterations, guestMaxStallMs: stall, hosts: fin.hosts,
    postcopyRequests: fin.stats.postcopyRequests,
  });
}
