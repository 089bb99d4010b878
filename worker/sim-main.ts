/**
 * `ferry worker --sim <spec.json>`: a worker on a simulated fleet (sim-worker.ts), on the Temporal
 * of the usual configuration (TEMPORAL_* or the profile, else the lab's default address) and task
 * queue FERRY_TASK_QUEUE. It needs no hosts file and no Placement: both are simulated.
 */
import { NativeConnection } from '@temporalio/worker';
import { temporalConnectionOptions } from '../config/temporal-connection';
import { loadWorkerConfig } from './config';
import { createJsonLogger } from './logging/json-logger';
import { installWorkerRuntime } from './runtime';
import { createSimWorker, loadSimFleetSpec, type SimWorkerTuning } from './sim-worker';
import { chooseTemporalAddress } from './temporal-address';
import { refuseWithoutSearchAttributes } from './worker';

export async function runSimWorker(specFile: string, tuning: SimWorkerTuning, unavailable: (message: string) => Error): Promise<void> {
  let spec;
  let config;
  try {
    spec = loadSimFleetSpec(specFile);
    config = loadWorkerConfig();
  } catch (err) {
    throw unavailable((err as Error).message);
  }
  const runtime = installWorkerRuntime({ metricsAddress: config.FERRY_METRICS_ADDRESS, logger: createJsonLogger({ level: config.FERRY_LOG_LEVEL }) });
  const { address, from } = chooseTemporalAddress(config.temporal);
  let built: Awaited<ReturnType<typeof createSimWorker>>;
  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal, address));
    await refuseWithoutSearchAttributes(connection, config.temporal.namespace);
    built = await createSimWorker({ connection, namespace: config.temporal.namespace, taskQueue: config.FERRY_TASK_QUEUE, spec, tuning });
  } catch (err) {
    throw unavailable(`ferry worker --sim cannot start at ${address} (${from}): ${(err as Error).message}`);
  }
  runtime.logger.info('ferry sim worker started', {
    temporal: `${address} (${from}), namespace '${config.temporal.namespace}', task queue '${config.FERRY_TASK_QUEUE}'`,
    fleet: `${spec.hosts} simulated hosts x ${spec.vmsPerHost} VMs, speed x${spec.speed} (${specFile})`,
    tuning,
  });
  const stop = () => built.worker.shutdown();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await built.worker.run();
  } finally {
    await connection.close();
    runtime.logger.info('ferry sim worker stopped');
  }
}
