/**
 * The workflow's view of the activities: explicit timeouts and retry policies per kind of step.
 * Only types are imported from activities/ (the implementation never enters the workflow bundle).
 */
import { proxyActivities } from '@temporalio/workflow';
import type { FerryActivities } from '../model/activity-contract';

/** Errors that retrying cannot fix: a refusal, a VM that vanished, a rollback that would be unsafe. */
const NON_RETRYABLE = ['Refused', 'InvalidInput', 'VmMissing', 'RollbackUnsafe'];

/** Short, idempotent steps: checks, claims, prepare, start, apply an action. */
export const acts = proxyActivities<FerryActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE },
});

/**
 * The watch: returns at every decision point (at most a few seconds), heartbeats meanwhile, so a
 * dead worker is noticed within the heartbeat timeout and the watch re-attaches on a new one.
 */
export const watchActs = proxyActivities<FerryActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '15 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', nonRetryableErrorTypes: NON_RETRYABLE },
});

/** Finish and roll back: retried patiently (a switch-over may take seconds to settle on both hosts). */
export const finishActs = proxyActivities<FerryActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 1.5, maximumInterval: '20 seconds', maximumAttempts: 30, nonRetryableErrorTypes: NON_RETRYABLE },
});

/** Post-copy recovery: POSTCOPY_RESUME with backoff while the network heals. */
export const recoverActs = proxyActivities<FerryActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '60 seconds', maximumAttempts: 20, nonRetryableErrorTypes: NON_RETRYABLE },
});
