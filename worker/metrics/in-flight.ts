import { Client } from '@temporalio/client';
import type { Logger, MetricMeter } from '@temporalio/common';
import type { NativeConnection } from '@temporalio/worker';
import { ferryMetric } from '../../model/metric-names';
import { LIVE_MIGRATION_WORKFLOW_TYPE } from '../../workflows/definitions';

/** How often a worker reads the number of running migrations from visibility. */
const IN_FLIGHT_EVERY_MS = 15_000;

/**
 * The migrations running in the namespace, as Temporal's visibility counts them, set on a gauge
 * every 15 s. Visibility is the one place that knows: a count kept in a worker's memory loses its
 * migrations when that worker dies while another finishes them. Every worker reports the same
 * number (dashboards take max() over workers, not sum()). A failed read keeps the last value and
 * says why in the log, once per streak of failures. Returns the stop function.
 */
export function reportMigrationsInFlight(
  connection: NativeConnection,
  namespace: string,
  meter: MetricMeter,
  log: Logger,
  everyMs = IN_FLIGHT_EVERY_MS,
): () => void {
  const client = new Client({ connection, namespace });
  const gauge = meter.createGauge(ferryMetric.inFlight, 'int', 'migrations', 'migrations running in the namespace (from visibility)');
  const query = `WorkflowType = '${LIVE_MIGRATION_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'`;
  let failing = false;
  let stopped = false;
  const read = async () => {
    try {
      const { count } = await client.workflow.count(query);
      if (!stopped) gauge.set(count, { namespace });
      failing = false;
    } catch (err) {
      if (!failing) log.warn('ferry: cannot count the migrations in flight (visibility); the gauge keeps its last value', { error: (err as Error).message });
      failing = true;
    }
  };
  void read();
  const timer = setInterval(() => void read(), everyMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
