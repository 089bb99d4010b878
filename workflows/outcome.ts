import type { Outcome } from '../model/types';
import type { Migration, MigrationInFlight } from './migration-state';

type OutcomeFacts = Pick<Outcome, 'downtimeMs' | 'bytes' | 'iterations' | 'guestMaxStallMs' | 'hosts'> & {
  error?: Outcome['error'];
  postcopyRequests?: number | null;
};

/** The migration's result, with the evidence for its mode and every decision taken. */
export function outcomeOf(m: Migration, flight: MigrationInFlight, kind: Outcome['outcome'], facts: OutcomeFacts): Outcome {
  // A switch may complete before any sample shows the new mode: pages served after the switch
  // (post-copy requests) and our own pause are the evidence.
  const postcopy = m.controller.phase === 'postcopy' || m.sawPostcopy || (facts.postcopyRequests ?? 0) > 0;
  const { postcopyRequests: _, ...rest } = facts;
  return {
    migrationId: flight.migrationId,
    outcome: kind,
    mode: postcopy ? 'postcopy' : flight.pausedByUs || m.controller.phase === 'paused' ? 'paused' : 'precopy',
    source: flight.source,
    destination: flight.destination,
    totalMs: Date.now() - m.rec.startedAtMs,
    decisions: m.rec.decisions.map(({ atMs, action, reason }) => ({ atMs, action, reason })),
    resolvedPolicy: m.policy,
    vm: { name: flight.vm.name, uuid: flight.vm.uuid },
    ...rest,
  };
}
