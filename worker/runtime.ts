import { Runtime, type RuntimeOptions } from '@temporalio/worker';
import { prometheusTelemetry } from './metrics/telemetry';

export interface WorkerRuntimeOptions {
  /** Where the Prometheus endpoint listens (IP:PORT), or undefined for none. */
  metricsAddress?: string;
  logger?: RuntimeOptions['logger'];
}

/**
 * Installs the process's Temporal runtime (once per process, before any connection): its logger
 * and its Prometheus endpoint. A busy or forbidden address stops the worker with an error that
 * names FERRY_METRICS_ADDRESS, not a silent worker without metrics.
 */
export function installWorkerRuntime(opts: WorkerRuntimeOptions): Runtime {
  const telemetryOptions = opts.metricsAddress ? prometheusTelemetry(opts.metricsAddress) : {};
  try {
    return Runtime.install({ ...(opts.logger ? { logger: opts.logger } : {}), telemetryOptions });
  } catch (err) {
    if (!opts.metricsAddress) throw err;
    throw new Error(
      `cannot serve metrics at ${opts.metricsAddress} (FERRY_METRICS_ADDRESS): ${(err as Error).message}; ` +
        "choose a free address, or set FERRY_METRICS_ADDRESS=off for a worker without a metrics endpoint",
    );
  }
}
