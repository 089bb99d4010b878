import { ApplicationFailure, patched } from '@temporalio/workflow';
import { createDestinationVolumes, guestStallMark, guestStallMarkLocal, prepareDestination, prepareDestinationLocal, startMigration } from '../activity-proxies';
import { chooseDataPath, type DataPath } from '../../model/data-path';
import { postcopyUsable } from '../convergence';
import { blockMigrationCopies, destXmlRef, enterPhase, type Migration, type MigrationInFlight } from '../migration-state';

/**
 * Step 3: the destination XML, prepared on the source from facts the destination reported.
 * Returns what the flight keeps of it: its fingerprint (start and recovery rebuild the XML, which
 * carries the console password and so must stay out of the history), or, for runs begun before
 * (their history holds the XML already), the XML itself.
 */
export async function prepare(m: Migration, flight: MigrationInFlight): Promise<Pick<MigrationInFlight, 'destXml' | 'destXmlFingerprint'>> {
  enterPhase(m, 'preparing');
  const outOfHistory = patched('dest-xml-out-of-history');
  // The migration id keys the destination's vPMEM namespace assignment (runs begun before send none).
  const byMigrationId = patched('vpmem-assignment-by-migration-id');
  // Quick and idempotent by migration id (the vPMEM record included): a local activity (patch
  // 'local-quick-reads', activity-proxies.ts).
  const prep = await (patched('local-quick-reads') ? prepareDestinationLocal : prepareDestination)({
    vm: flight.vm, source: flight.source, destination: flight.destination, ...(outOfHistory ? { xmlOutOfHistory: true } : {}),
    ...(byMigrationId ? { migrationId: flight.migrationId } : {}),
  });
  m.rec.decide(Date.now(), 'prepare-destination', prep.changes.length ? `destination XML: ${prep.changes.join('; ')}` : 'destination XML: nothing host-specific to rewrite');
  // Block migration: the destination volumes exist before the start (QEMU mirrors into them).
  const copies = blockMigrationCopies(flight);
  if (copies.length) {
    const made = await createDestinationVolumes({ migrationId: flight.migrationId, destination: flight.destination, copies });
    m.rec.decide(Date.now(), 'destination-volumes', made.steps.join('; '));
  }
  if (!outOfHistory) return { destXml: prep.destXml ?? '' };
  if (!prep.fingerprint) throw ApplicationFailure.nonRetryable('prepareDestination returned no fingerprint of the destination XML (a bug in ferry)', 'Bug');
  return { destXmlFingerprint: prep.fingerprint };
}

/**
 * Step 4: the guest meter's mark (lab only), then one peer-to-peer call to the source daemon,
 * which owns the job from then on; returns once the job is seen running.
 */
export async function start(m: Migration, flight: MigrationInFlight): Promise<Record<string, unknown> | null> {
  // A read of the lab guest's meter (null at once elsewhere): local (patch 'local-quick-reads').
  const guestMark = await (patched('local-quick-reads') ? guestStallMarkLocal : guestStallMark)({ vmName: flight.vm.name });
  enterPhase(m, 'pre-copy');
  const usable = postcopyUsable(m.policy, m.postcopyEligible).usable;
  const copies = blockMigrationCopies(flight);
  // Only plans made under 'storage-plan' name any (new with it): runs begun before have none.
  const vouched = flight.sharedDisksVouched ?? [];
  const dataPath = patched('data-path-by-capability') ? decideDataPath(m, usable) : undefined;
  const started = await startMigration({
    migrationId: flight.migrationId, vm: flight.vm, source: flight.source, destination: flight.destination, ...destXmlRef(flight),
    postcopy: usable, bandwidthMiBps: m.req.bandwidthMiBps ?? null, initialMaxDowntimeMs: m.policy.downtime.initialMs,
    ...(dataPath ? { dataPath } : {}),
    ...(copies.length ? { migrateDisks: copies.map((c) => c.target) } : {}),
    ...(vouched.length ? { sharedDisksVouched: vouched } : {}),
  });
  const disks = (copies.length ? `, copying disk ${copies.map((c) => c.target).join(', ')}` : '') +
    (vouched.length ? `, disk ${vouched.join(', ')} shared as ferry's probe proved (VIR_MIGRATE_UNSAFE: libvirt's check by filesystem type waived)` : '');
  m.rec.decide(Date.now(), 'start', `peer-to-peer ${usable ? 'pre-copy, post-copy enabled' : 'pre-copy'}${disks}: ${started.outcome}`);
  return guestMark;
}

/** The best data path both hosts offer (model/data-path.ts), recorded with why each part is used or not. */
function decideDataPath(m: Migration, postcopy: boolean): DataPath | undefined {
  if (!m.stacks) return undefined;
  const dataPath = chooseDataPath(m.stacks, {
    postcopy,
    parallelConnections: m.policy.dataPath.parallelConnections,
    switchoverBandwidthMiBps: m.req.bandwidthMiBps ?? null,
    tls: m.policy.dataPath.tls,
  });
  m.rec.decide(Date.now(), 'data-path', dataPath.why.join('; '), {
    postcopyPreempt: dataPath.postcopyPreempt, parallelConnections: dataPath.parallelConnections,
    switchoverBandwidthMiBps: dataPath.switchoverBandwidthMiBps, ...(dataPath.tls ? { tls: true } : {}),
  });
  return dataPath;
}
