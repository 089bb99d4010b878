/**
 * The worker process: configuration, connections, start-up and shutdown logs, and a graceful stop
 * on SIGINT/SIGTERM (a second signal stops at once). Loaded by `ferry worker` when it runs.
 */
import { loadWorkerConfig, type WorkerConfig } from './config';
import { createJsonLogger } from './logging/json-logger';
import { installWorkerRuntime } from './runtime';
import { tracingFor } from './tracing/tracing';
import { chooseTemporalAddress } from './temporal-address';
import { createFerryWorker, type WorkerFallback, type WorkerSetup } from './worker';

export interface RunWorkerOptions {
  /** Hosts/Placement/Temporal when the environment names none (the composition root's lab fallback). */
  fallback?: () => Promise<WorkerFallback | undefined>;
  /** The error for "cannot start: bad configuration or Temporal unreachable" (the CLI's exit code 69). */
  unavailable: (message: string) => Error;
  /** Passed to the worker as is (test harnesses only: the fault matrix's gate). */
  activityInterceptors?: WorkerSetup['activityInterceptors'];
}

export async function runWorker(opts: RunWorkerOptions): Promise<void> {
  let config: WorkerConfig;
  try {
    config = loadWorkerConfig();
  } catch (err) {
    throw opts.unavailable((err as Error).message);
  }
  let runtime: ReturnType<typeof installWorkerRuntime>;
  try {
    runtime = installWorkerRuntime({ metricsAddress: config.FERRY_METRICS_ADDRESS, logger: createJsonLogger({ level: config.FERRY_LOG_LEVEL }) });
  } catch (err) {
    throw opts.unavailable((err as Error).message);
  }
  const needsFallback = !config.FERRY_HOSTS_FILE || !config.FERRY_PLACEMENT_URL || config.temporal.address === undefined;
  const fallback = needsFallback ? await opts.fallback?.() : undefined;
  const labAddress = config.temporal.address === undefined ? await fallback?.temporalAddress?.() : undefined;
  const { address: temporalAddress, from: addressFrom } = chooseTemporalAddress(
    config.temporal,
    fallback && { describe: fallback.describe, ...(labAddress ? { address: labAddress } : {}) },
  );
  const log = runtime.logger;
  const where =
    `${temporalAddress} (${addressFrom}), namespace '${config.temporal.namespace}' (${config.temporal.origin.namespace}), ` +
    `task queue '${config.FERRY_TASK_QUEUE}'`;
  let built: Awaited<ReturnType<typeof createFerryWorker>>;
  try {
    const tracing = tracingFor(config.FERRY_TRACING, runtime.logger);
    built = await createFerryWorker({
      config, temporalAddress, fallback, activityInterceptors: opts.activityInterceptors, tracing,
      ...(config.FERRY_METRICS_ADDRESS ? { inFlightMeter: runtime.metricMeter } : {}),
    });
  } catch (err) {
    throw opts.unavailable(`ferry worker cannot start at ${where}: ${(err as Error).message}`);
  }
  const { worker, close, facts } = built;
  log.info('ferry worker started', {
    temporal: where,
    hosts: `${facts.hosts.join(', ')} (${facts.hostsFrom})`,
    placement: `${facts.placementUrl} (${facts.placementFrom})`,
    workflows: facts.workflows,
    metrics: config.FERRY_METRICS_ADDRESS ? `http://${config.FERRY_METRICS_ADDRESS}/metrics` : 'off (FERRY_METRICS_ADDRESS=off)',
    tracing: config.FERRY_TRACING.kind === 'otlp' ? `OTLP to ${config.FERRY_TRACING.url}` : config.FERRY_TRACING.kind,
  });

  let signals = 0;
  const stop = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      log.warn('ferry worker: second signal, stopping now', { signal });
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    log.info('ferry worker stopping: no new tasks; running activities get the grace time to return', { signal });
    worker.shutdown();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    await worker.run();
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await close();
    log.info('ferry worker stopped');
  }
}
