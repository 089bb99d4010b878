/**
 * migrationsInFlight against a stub visibility: the running migrations counted (the caller left
 * out, waiting ones not counted), the inventory's host limits reported, and a visibility that does
 * not answer failing the attempt as retryable 'VisibilityUnavailable' (never counted as empty).
 */
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import type { ActivityDeps, MigrationsVisibility } from '../../../activities/deps';
import { Inventory } from '../../../activities/hosts';
import { migrationsInFlightActivities } from '../../../activities/migrations-in-flight';
import { InFlightCountsSchema, type RunningMigration } from '../../../model/migrations-in-flight';

const inventory = new Inventory([
  { name: 'host-a', uri: 'test:///default', peerUri: 'test:///default', rp: '11111111-1111-4111-8111-111111111111', limits: { maxOutgoingMigrations: 1 } },
  { name: 'host-b', uri: 'test:///default', peerUri: 'test:///default', rp: '22222222-2222-4222-8222-222222222222' },
  { name: 'host-c', uri: 'test:///default', peerUri: 'test:///default', rp: '33333333-3333-4333-8333-333333333333', limits: { maxIncomingMigrations: 3 } },
]);

const activity = (visibility: MigrationsVisibility) =>
  migrationsInFlightActivities({ inventory, visibility } as unknown as ActivityDeps).migrationsInFlight;

describe('migrationsInFlight', () => {
  it('counts what visibility lists (not those waiting for admission or an operator), leaves the caller out, and reports the hosts\' inventory limits', async () => {
    const rows: RunningMigration[] = [
      { workflowId: 'migrate-me', source: 'host-a', destination: 'host-b', phase: 'admission' },
      { workflowId: 'migrate-1', source: 'host-a', destination: 'host-c', phase: 'pre-copy' },
      { workflowId: 'migrate-2', source: 'host-b', destination: 'host-c', phase: 'claiming' },
      { workflowId: 'migrate-3', source: 'host-b', destination: 'host-a', phase: 'admission' },
      // Post-copy recovery waiting for an operator: nothing flows, it must not hold every move back.
      { workflowId: 'migrate-4', source: 'host-a', destination: 'host-b', phase: 'escalated' },
    ];
    const counts = await activity({ runningMigrations: async () => rows })({ excludeWorkflowIds: ['migrate-me'] });
    expect(InFlightCountsSchema.parse(counts)).toEqual(counts);
    expect(counts).toEqual({
      total: 2, outOf: { 'host-a': 1, 'host-b': 1 }, into: { 'host-c': 2 }, onLink: { 'host-a->host-c': 1, 'host-b->host-c': 1 },
      hostLimits: { 'host-a': { maxOutgoing: 1, maxIncoming: null }, 'host-c': { maxOutgoing: null, maxIncoming: 3 } },
    });
  });

  it('a visibility that does not answer fails the attempt (retryable), naming visibility', async () => {
    const err = await activity({ runningMigrations: async () => { throw new Error('connect ECONNREFUSED 127.0.0.1:7233'); } })({ excludeWorkflowIds: [] })
      .then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'VisibilityUnavailable', nonRetryable: false });
    expect((err as Error).message).toMatch(/cannot list the running migrations from Temporal's visibility: connect ECONNREFUSED/);
  });
});
