/**
 * The drain's activities as its workflow sees them, each with its own policy: the facts are a
 * read (a few retries), the maintenance mark and the reservations are short idempotent acts, and
 * releasing is bookkeeping retried patiently (a Placement outage delays it, never skips it).
 */
import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { FerryActivities } from '../../model/activity-contract';

const NON_RETRYABLE = ['Refused', 'InvalidInput', 'ContractViolation', 'PlacementInconsistent', 'PlacementRejected', 'PlacementProtocol'];
const PULSE: Pick<ActivityOptions, 'heartbeatTimeout'> = { heartbeatTimeout: '10 seconds' };

/** Every VM of the host and every other host: a few libvirt and Placement reads each. */
export const { gatherDrainFacts } = proxyActivities<FerryActivities>({
  ...PULSE,
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
});

export const { setHostMaintenance, reserveRoom } = proxyActivities<FerryActivities>({
  ...PULSE,
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE },
});

/** Giving room back: retried until Placement answers (at most a day), so nothing is left held. */
export const { releaseRoom } = proxyActivities<FerryActivities>({
  ...PULSE,
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '24 hours',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 1.5, maximumInterval: '1 minute', nonRetryableErrorTypes: NON_RETRYABLE },
});
