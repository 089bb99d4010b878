import { guestStallMark, prepareDestination, startMigration } from '../activity-proxies';
import { postcopyUsable } from '../convergence';
import { enterPhase, type Migration, type MigrationInFlight } from '../migration-state';

/**
 * Step 3: the destination XML, prepared on the source from facts the destination reported.
 * Returns the XML the migration (and a post-copy recovery) will use.
 */
export async function prepare(m: Migration, flight: MigrationInFlight): Promise<string> {
  enterPhase(m, 'preparing');
  const prep = await prepareDestination({ vm: flight.vm, source: flight.source, destination: flight.destination });
  m.rec.decide(Date.now(), 'prepare-destination', prep.changes.length ? `destination XML: ${prep.changes.join('; ')}` : 'destination XML: nothing host-specific to rewrite');
  return prep.destXml;
}

/**
 * Step 4: the guest meter's mark (lab only), then one peer-to-peer call to the source daemon,
 * which owns the job from then on; returns once the job is seen running.
 */
export async function start(m: Migration, flight: MigrationInFlight): Promise<Record<string, unknown> | null> {
  const guestMark = await guestStallMark({ vmName: flight.vm.name });
  enterPhase(m, 'pre-copy');
  const usable = postcopyUsable(m.policy, m.postcopyEligible).usable;
  const started = await startMigration({
    migrationId: flight.migrationId, vm: flight.vm, source: flight.source, destination: flight.destination, destXml: flight.destXml,
    postcopy: usable, bandwidthMiBps: m.req.bandwidthMiBps ?? null, initialMaxDowntimeMs: m.policy.downtime.initialMs,
  });
  m.rec.decide(Date.now(), 'start', `peer-to-peer ${usable ? 'pre-copy, post-copy enabled' : 'pre-copy'}: ${started.outcome}`);
  return guestMark;
}
