/**
 * ferry's own metrics, emitted by the workflow where the facts are decided: the outcome and its
 * mode, total time, downtime and guest stall are known only when the workflow has built the
 * outcome; a recovery or an escalation is a workflow decision. Emitted through the workflow's
 * metric meter, which the SDK forwards to the worker's runtime (the same Prometheus endpoint as the
 * SDK's own metrics, with namespace, task_queue and workflow_type tags) and skips while
 * replaying, so a worker that replays a history after a crash does not count a migration twice.
 * Metadata only: no command, nothing in the history, so no patch is needed.
 *
 * The number of migrations in flight is not here: a workflow cannot see the others, and an
 * up/down counter kept per worker goes wrong when a worker dies mid-migration (its +1 vanishes
 * with it, another worker's -1 remains). The worker reads it from visibility instead
 * (worker/metrics/in-flight.ts).
 */
import { metricMeter } from '@temporalio/workflow';
import type { Outcome } from '../model/types';
import { ferryMetric } from '../model/metric-names';

/** An outcome with the numbers behind it: counted by outcome and mode, its times recorded. */
export function recordOutcome(outcome: Outcome): void {
  const tags = { outcome: outcome.outcome, mode: outcome.mode };
  metricMeter.createCounter(ferryMetric.migrations, 'migrations', 'migrations ended, by outcome and mode').add(1, tags);
  metricMeter.createHistogram(ferryMetric.duration, 'int', 'ms', 'time from start to outcome').record(Math.max(0, outcome.totalMs), tags);
  if (outcome.downtimeMs !== null) {
    metricMeter.createHistogram(ferryMetric.downtime, 'int', 'ms', "downtime libvirt measured at the switch-over").record(outcome.downtimeMs, { mode: outcome.mode });
  }
  if (outcome.guestMaxStallMs !== null) {
    metricMeter.createHistogram(ferryMetric.guestStall, 'int', 'ms', 'longest stall the guest itself felt').record(outcome.guestMaxStallMs, { mode: outcome.mode });
  }
}

/** A migration whose workflow failed instead of reaching an outcome (refused input, a failure after post-copy began). */
export function recordWorkflowFailure(kind: 'refused' | 'failed'): void {
  metricMeter.createCounter(ferryMetric.migrations, 'migrations', 'migrations ended, by outcome and mode').add(1, { outcome: `workflow-${kind}`, mode: 'none' });
}

/** A broken post-copy brought back (`how`: resumed by ferry, or it finished on its own meanwhile). */
export function countPostcopyRecovery(how: 'resumed' | 'finished-on-its-own'): void {
  metricMeter.createCounter(ferryMetric.postcopyRecoveries, 'recoveries', 'broken post-copies recovered').add(1, { how });
}

/** A migration handed to an operator (`where`: a post-copy recovery, or a situation no machine should resolve). */
export function countEscalation(where: 'postcopy-recovery' | 'situation'): void {
  metricMeter.createCounter(ferryMetric.escalations, 'escalations', 'migrations that escalated to an operator').add(1, { where });
}
