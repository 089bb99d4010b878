import { DEFAULT_NAMESPACE, LAB_TEMPORAL_ADDRESS } from '../config/temporal-defaults';
import { temporalSettingsOrProblems, type TemporalSettings } from '../config/temporal-env';
import { UnavailableError } from './errors';

/**
 * What the CLI and the typed client connect to: Temporal's own configuration (TEMPORAL_*
 * variables and profile, config/temporal-env.ts, shared with the `temporal` CLI) and ferry's task
 * queue, nothing else: an operator's machine needs no lab state, libvirt or Placement.
 * Each value remembers the setting that chose it, so that an error can say where to fix it.
 */
export interface ClientConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  /** Temporal's settings as read (TLS, API key, gRPC metadata, profile): for the connection. */
  temporal: TemporalSettings;
  /** Which setting chose each value: 'from TEMPORAL_ADDRESS', or 'default (the lab's); TEMPORAL_ADDRESS unset, …'. */
  origin: { address: string; namespace: string; taskQueue: string };
}

/** The embedded lab's Temporal: where the CLI looks when nothing names another. */
export const DEFAULT_TEMPORAL_ADDRESS = LAB_TEMPORAL_ADDRESS;
export const DEFAULT_TEMPORAL_NAMESPACE = DEFAULT_NAMESPACE;

/** `defaultTaskQueue` is workflows/definitions.ts's TASK_QUEUE (passed in: this file stays light). */
export function loadClientConfig(defaultTaskQueue: string, env: NodeJS.ProcessEnv = process.env): ClientConfig {
  const problems: string[] = [];
  const temporal = temporalSettingsOrProblems(env, problems);
  const queue = env.FERRY_TASK_QUEUE;
  if (queue !== undefined && queue.trim() === '') problems.push('FERRY_TASK_QUEUE is set but empty');
  if (problems.length > 0 || temporal === undefined) {
    throw new UnavailableError(`bad configuration: ${problems.join('; ')}`, { problems });
  }
  return {
    address: temporal.address ?? DEFAULT_TEMPORAL_ADDRESS,
    namespace: temporal.namespace,
    taskQueue: queue?.trim() ?? defaultTaskQueue,
    temporal,
    origin: {
      address: temporal.address !== undefined ? temporal.origin.address : `default, the lab's; ${temporal.origin.address}`,
      namespace: temporal.origin.namespace,
      taskQueue: queue !== undefined ? 'from FERRY_TASK_QUEUE' : 'default; FERRY_TASK_QUEUE unset',
    },
  };
}

/** "127.0.0.1:7233 (default, the lab's; TEMPORAL_ADDRESS unset, …), namespace 'prod' (from TEMPORAL_NAMESPACE)" */
export function describeTarget(c: ClientConfig): string {
  return `${c.address} (${c.origin.address}), namespace '${c.namespace}' (${c.origin.namespace})`;
}

/** "task queue 'ferry' (default; FERRY_TASK_QUEUE unset)" */
export function describeTaskQueue(c: ClientConfig): string {
  return `task queue '${c.taskQueue}' (${c.origin.taskQueue})`;
}
