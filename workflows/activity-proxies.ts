/**
 * The workflow's view of each activity, each with its own timeouts, heartbeat timeout and retry
 * policy, so which policy guards a call is decided here once, never by the call site. Only the
 * contract's types are imported (model/activity-contract.ts): no activity code enters the bundle.
 */
import {
  ActivityFailure, ApplicationFailure, CancelledFailure, proxyActivities, proxyLocalActivities, TemporalFailure, TimeoutFailure,
  type ActivityOptions, type LocalActivityOptions,
} from '@temporalio/workflow';
import type { FerryActivities } from '../model/activity-contract';

/** Errors that retrying cannot fix: a refusal, a VM that vanished, an unsafe act, a malformed call. */
const NON_RETRYABLE = ['Refused', 'InvalidInput', 'VmMissing', 'RollbackUnsafe', 'ContractViolation'];

/**
 * Activities without heartbeats of their own pulse one a second while they run
 * (activities/liveness-pulse.ts): an attempt lost with its worker is retried after this long,
 * not after its start-to-close. The fault matrix measured a worker SIGKILLed during a claim cost
 * 124 s with a 2-minute start-to-close and no heartbeat.
 */
const PULSE: Pick<ActivityOptions, 'heartbeatTimeout'> = { heartbeatTimeout: '10 seconds' };

/** Read-only checks: quick (a few Placement calls, 10 s HTTP timeout each, and libvirt reads), a few retries for a host that blinks. */
const CHECK: ActivityOptions = {
  ...PULSE,
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
};

/** One short, idempotent side effect (claim, prepare). */
const STEP: ActivityOptions = {
  ...PULSE,
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE },
};

/**
 * Bookkeeping and compensation (revert or drop the claim, finish, roll back): retried patiently,
 * with backoff, for up to an hour: a Placement or host outage delays them, it must not end them.
 */
const PATIENT: ActivityOptions = {
  ...PULSE,
  startToCloseTimeout: '2 minutes',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 1.5, maximumInterval: '1 minute', nonRetryableErrorTypes: NON_RETRYABLE },
};

export const { checkSource, chooseDestinationHost, checkDestination } = proxyActivities<FerryActivities>(CHECK);

/**
 * The same quick reads as local activities (patch 'local-quick-reads', steps/pre-checks.ts,
 * steps/prepare-and-start.ts): run by the worker that runs the workflow task, inside that task, so
 * each costs no trip through the server's task queues and no new workflow task (15-40 ms each on
 * the lab's server, measured by bench/overhead), and consecutive ones finish in one workflow task.
 * Only what is fit for it is local: it is read-only (a retry, or a second run after a worker died
 * in the middle, changes nothing), quick (a few libvirt reads and Placement GETs: well under a
 * second, far under the workflow task's timeout), and needs no heartbeat (a local activity cannot
 * send one; a worker lost during one is noticed through the workflow task's timeout, and the read
 * simply runs again). Whatever has effects or may run long (claim, start, watch, steer, finish,
 * roll back, recover, the stall reading that waits for the guest's meter) stays a regular activity.
 */
const local = (o: ActivityOptions): LocalActivityOptions => ({ startToCloseTimeout: o.startToCloseTimeout!, retry: o.retry! });

/**
 * A local activity's failure reaches the workflow as the activity's own error, where a regular
 * activity's comes wrapped in an ActivityFailure: wrapped the same way here, so the failure a
 * migration ends with, its outcome's error and whatever reads them (the CLI, the Temporal UI, the
 * metrics, the step code that unwraps them) do not depend on how an activity was run.
 */
function likeRegularActivities<K extends keyof FerryActivities>(proxy: FerryActivities, names: readonly K[]): Pick<FerryActivities, K> {
  const out: Partial<Record<K, unknown>> = {};
  for (const name of names) {
    const call = proxy[name] as (input: unknown) => Promise<unknown>;
    out[name] = (input: unknown) => call(input).catch((err: unknown) => {
      throw asActivityFailure(name, err);
    });
  }
  return out as Pick<FerryActivities, K>;
}

function asActivityFailure(activityType: string, err: unknown): unknown {
  if (!(err instanceof TemporalFailure) || err instanceof ActivityFailure || err instanceof CancelledFailure) return err;
  const retryState: ActivityFailure['retryState'] = err instanceof ApplicationFailure && err.nonRetryable ? 'NON_RETRYABLE_FAILURE'
    : err instanceof TimeoutFailure ? 'TIMEOUT' : 'MAXIMUM_ATTEMPTS_REACHED';
  return new ActivityFailure('Activity task failed', activityType, undefined, retryState, undefined, err);
}

export const {
  checkSource: checkSourceLocal, chooseDestinationHost: chooseDestinationHostLocal, checkDestination: checkDestinationLocal,
} = likeRegularActivities(proxyLocalActivities<FerryActivities>(local(CHECK)), ['checkSource', 'chooseDestinationHost', 'checkDestination']);
/** Reads the source's XML and the destination's facts and computes the destination XML: defines nothing anywhere. */
export const { prepareDestination: prepareDestinationLocal } = likeRegularActivities(proxyLocalActivities<FerryActivities>(local(STEP)), ['prepareDestination']);

/** Runs begun before the claim showed its Placement waits (patch 'placement-wait-claim'). */
export const { claim } = proxyActivities<FerryActivities>(STEP);
export const { revertClaim } = proxyActivities<FerryActivities>(PATIENT);

/**
 * Placement calls whose outage the workflow waits out itself and shows in the progress
 * (steps/placement-wait.ts): a few quick attempts; beyond them the workflow's back-off.
 */
const PLACEMENT_QUICK: ActivityOptions = {
  ...PULSE,
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 seconds', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
};
/** Bookkeeping after the outcome is decided (steps/bookkeeping.ts). */
export const { dropMigrationClaim } = proxyActivities<FerryActivities>(PLACEMENT_QUICK);
/** The claim and its compensation (claim, roll-back), as the Placement wait calls them. */
export const { claim: claimQuick, revertClaim: revertClaimQuick } = proxyActivities<FerryActivities>(PLACEMENT_QUICK);

export const { prepareDestination } = proxyActivities<FerryActivities>(STEP);

/**
 * The storage check creates (and always removes) a probe volume on the destination: an effect, so
 * a regular activity, not a local one, with the checks' quick retries.
 */
export const { checkStorage } = proxyActivities<FerryActivities>(CHECK);
/** Block migration: the destination volumes, idempotent by migration id (activities/storage/volumes.ts). */
export const { createDestinationVolumes } = proxyActivities<FerryActivities>(STEP);

/** The start returns once the job runs (up to a minute), heartbeating while it waits. */
export const { startMigration } = proxyActivities<FerryActivities>({ ...STEP, startToCloseTimeout: '3 minutes', heartbeatTimeout: '30 seconds' });

/**
 * The watch returns at every decision point (a few seconds at most) and heartbeats meanwhile, so a
 * dead worker is noticed within the heartbeat timeout and the watch re-attaches on another one.
 * Unlimited attempts: a host that does not answer is a fact to report, not an end.
 */
export const { watchMigration } = proxyActivities<FerryActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '15 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', nonRetryableErrorTypes: NON_RETRYABLE },
});

/** Steering the job (max downtime, bandwidth, post-copy, pause, abort): quick, few retries. */
export const { applyAction } = proxyActivities<FerryActivities>({
  ...PULSE,
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
});

/**
 * Post-copy recovery: observe both hosts, then resume (POSTCOPY_RESUME) only when both show it
 * failed. A resume call blocks until post-copy completes, so the activity heartbeats and a dead
 * worker is noticed within 15 s. The bound on attempts lives in its typed result (escalate), so a
 * thrown error only means infrastructure trouble: retried without limit.
 */
export const { recoverPostcopy } = proxyActivities<FerryActivities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '15 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '30 seconds', nonRetryableErrorTypes: NON_RETRYABLE },
});

export const { finishMigration, finishOnHosts, rollbackMigration } = proxyActivities<FerryActivities>(PATIENT);

/** The lab guest's stall meter: a measurement, never worth delaying the migration for. */
const METER: ActivityOptions = {
  ...PULSE,
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 2, nonRetryableErrorTypes: NON_RETRYABLE },
};
export const { guestStallMark, guestStallSince } = proxyActivities<FerryActivities>(METER);
/** The mark, local (patch 'local-quick-reads'): it reads the guest's serial log; production has no meter and answers null at once. */
export const { guestStallMark: guestStallMarkLocal } = likeRegularActivities(proxyLocalActivities<FerryActivities>(local(METER)), ['guestStallMark']);

/** The forecast's facts: a read (QEMU samples the guest's dirty rate for a few seconds), as quick as a check. */
export const { gatherForecastFacts } = proxyActivities<FerryActivities>(CHECK);
