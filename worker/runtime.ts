import { Runtime, type RuntimeOptions } from '@temporalio/worker';
import { prometheusTelemetry } from './metrics/telemetry';

export interface WorkerRuntimeOptions {
  /** Where the Prometheus endpoint listens (IP:PORT), or undefined for none. */
  metricsAddress?: string;
  logger?: RuntimeOptions['logger'];
}

/**
 * The runtime's options: the logger, which then receives the native core's lines too (else the
 * core prints its own format to stderr), and the Prometheus endpoint.
 */
export function workerRuntimeOptions(opts: WorkerRuntimeOptions): RuntimeOptions {
  return {
    ...(opts.logger ? { logger: opts.logger } : {}),
    telemetryOptions: {
      ...(opts.metricsAddress ? prometheusTelemetry(opts.metricsAddress) : {}),
      ...(opts.logger ? { logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} } } : {}),
    },
  };
}

/**
 * Installs the process's Temporal runtime (once per process, before any connection). A busy or
 * forbidden metrics address stops the worker with an error that names FERRY_METRICS_ADDRESS, not a
 * silent worker without metrics.
 */
export function installWorkerRuntime(opts: WorkerRuntimeOptions): Runtime {
  try {
    return Runtime.install(workerRuntimeOptions(opts));
  } catch (err) {
    if (!opts.metricsAddress) throw err;
    throw new Error(
      `cannot serve metrics at ${opts.metricsAddress} (FERRY_METRICS_ADDRESS): ${(err as Error).message}; ` +
        "choose a free address, or set FERRY_METRICS_ADDRESS=off for a worker without a metrics endpoint",
    );
  }
}
