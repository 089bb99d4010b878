import { patched, upsertSearchAttributes } from '@temporalio/workflow';
import { FerryOutcome, FerryPhase } from '../../model/search-attributes';
import type { Outcome } from '../../model/types';
import { revertClaimQuick, rollbackMigration } from '../activity-proxies';
import { blockMigrationCopies, enterPhase, type Migration, type MigrationInFlight } from '../migration-state';
import { outcomeOf } from '../outcome';
import { waitForPlacement } from './placement-wait';

/**
 * Step 7, before the switch-over only: the job aborted, the guest running on the source, the
 * destination cleaned, the allocations moved back — each act through the guard, which observes
 * both hosts first. Where the guard finds the guest elsewhere, nothing is undone and the workflow
 * is told what to do instead. The outcome names the cause.
 */
export type RollBackResult =
  | { kind: 'outcome'; outcome: Outcome }
  /** The guard found the guest elsewhere than on the source: nothing was undone; `next` says what to do. */
  | { kind: 'refused'; next: string };

export async function rollBack(m: Migration, flight: MigrationInFlight, kind: 'rolled_back' | 'aborted' | 'failed', cause?: unknown): Promise<RollBackResult> {
  enterPhase(m, 'rolling-back');
  // Runs begun before (no marker) left a Placement outage to the activity's retry policy, unseen.
  const shown = patched('placement-wait-roll-back');
  // Block migration: the destination volumes this migration created go with the rest.
  const copies = blockMigrationCopies(flight);
  const rb = await rollbackMigration({
    migrationId: flight.migrationId, vm: flight.vm, source: flight.source, destination: flight.destination, resumeIfPaused: flight.pausedByUs,
    ...(shown ? { placementOutage: 'report' as const } : {}),
    ...(copies.length ? { diskCopies: copies } : {}),
  });
  if (rb.outcome === 'refused') {
    m.rec.decide(Date.now(), 'roll-back-refused', rb.steps.join('; '), { situation: rb.situation ?? null, next: rb.next ?? null });
    return { kind: 'refused', next: rb.next ?? 'retry-observe' };
  }
  m.rec.decide(Date.now(), 'roll-back', rb.steps.join('; '));
  if (rb.placementWait !== undefined) {
    // The hosts are rolled back; the allocations wait for Placement. Compensation: never given up,
    // shown in the progress, and the outcome stays what the roll-back made it.
    const reverted = await waitForPlacement(m, 'moving the allocations back (roll-back)', () => revertClaimQuick({ migrationId: flight.migrationId, vmUuid: flight.vm.uuid }), {
      meaning: 'compensation: retried until Placement answers; the guest already runs on the source',
      alreadyFailed: rb.placementWait,
    });
    m.rec.decide(Date.now(), 'revert-claim', `allocations: ${reverted}`);
  }
  m.rec.setPhase('done', Date.now());
  upsertSearchAttributes([{ key: FerryPhase, value: 'done' }, { key: FerryOutcome, value: kind }]);
  return {
    kind: 'outcome',
    outcome: outcomeOf(m, flight, kind, { downtimeMs: null, bytes: null, iterations: null, guestMaxStallMs: null, hosts: rb.hosts, error: errorOf(cause) }),
  };
}

/** The cause as the outcome reports it: the innermost message (an activity's own words). */
function errorOf(cause: unknown): Outcome['error'] {
  if (cause === undefined) return undefined;
  if (!(cause instanceof Error)) return { message: String(cause), type: 'Error' };
  return { message: (cause.cause instanceof Error ? cause.cause.message : undefined) ?? cause.message, type: cause.name };
}
