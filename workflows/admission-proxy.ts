/**
 * The admission read, as drains and single migrations proxy it (one definition for both): a quick
 * visibility listing, a few attempts. Beyond them the caller's own wait takes over (a single
 * migration keeps waiting and says why; a drain looks again later), so a visibility outage delays
 * moves, never admits them on counts not read.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { FerryActivities } from '../model/activity-contract';

export const { migrationsInFlight } = proxyActivities<FerryActivities>({
  heartbeatTimeout: '10 seconds',
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 seconds', maximumAttempts: 3,
    nonRetryableErrorTypes: ['InvalidInput', 'ContractViolation'],
  },
});
