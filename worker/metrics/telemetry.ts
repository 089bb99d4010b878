import type { TelemetryOptions } from '@temporalio/worker';
import { histogramBuckets } from '../../model/metric-names';

/**
 * The runtime's metrics: the SDK's own (workers, pollers, activities, workflow tasks) and ferry's
 * (emitted through the SDK's metric meter) on one Prometheus endpoint, `/metrics` at
 * `bindAddress`, with ferry's histograms bucketed for what they measure.
 */
export function prometheusTelemetry(bindAddress: string): Pick<TelemetryOptions, 'metrics'> {
  return {
    metrics: {
      prometheus: { bindAddress, histogramBucketOverrides: histogramBuckets },
    },
  };
}
