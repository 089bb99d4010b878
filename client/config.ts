import { UnavailableError } from './errors';

/**
 * What the CLI and the typed client connect to, from the environment only: an operator's machine
 * needs a Temporal address and nothing else (no lab state, no libvirt, no Placement).
 * Each value remembers the setting that chose it, so that an error can say where to fix it.
 */
export interface ClientConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  /** TLS to the Temporal frontend: files of the CA, and of the client certificate and key (mTLS). */
  tls: { ca?: string; cert?: string; key?: string } | null;
  /** Which setting chose each value: 'from FERRY_TEMPORAL_ADDRESS', or 'default; FERRY_TEMPORAL_ADDRESS unset'. */
  origin: { address: string; namespace: string; taskQueue: string };
}

export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';
export const DEFAULT_TEMPORAL_NAMESPACE = 'default';

/** `defaultTaskQueue` is workflows/definitions.ts's TASK_QUEUE (passed in: this file stays light). */
export function loadClientConfig(defaultTaskQueue: string, env: NodeJS.ProcessEnv = process.env): ClientConfig {
  const problems: string[] = [];
  const pick = (name: string, fallback: string) => {
    const v = env[name];
    if (v === undefined) return { value: fallback, origin: `default; ${name} unset` };
    if (v.trim() === '') problems.push(`${name} is set but empty`);
    return { value: v.trim(), origin: `from ${name}` };
  };
  const address = pick('FERRY_TEMPORAL_ADDRESS', DEFAULT_TEMPORAL_ADDRESS);
  if (address.value !== '' && !/^[^\s:/]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(address.value)) {
    problems.push(`FERRY_TEMPORAL_ADDRESS must be host:port, got '${address.value}'`);
  }
  const namespace = pick('FERRY_TEMPORAL_NAMESPACE', DEFAULT_TEMPORAL_NAMESPACE);
  const taskQueue = pick('FERRY_TASK_QUEUE', defaultTaskQueue);
  const tlsFlag = env.FERRY_TEMPORAL_TLS ?? '0';
  if (tlsFlag !== '0' && tlsFlag !== '1') problems.push(`FERRY_TEMPORAL_TLS must be 0 or 1, got '${tlsFlag}'`);
  const [ca, cert, key] = (['FERRY_TEMPORAL_TLS_CA', 'FERRY_TEMPORAL_TLS_CERT', 'FERRY_TEMPORAL_TLS_KEY'] as const).map((k) => env[k] || undefined);
  if ((cert === undefined) !== (key === undefined)) problems.push('FERRY_TEMPORAL_TLS_CERT and FERRY_TEMPORAL_TLS_KEY go together');
  if (problems.length > 0) {
    throw new UnavailableError(`bad configuration: ${problems.join('; ')}`, { problems });
  }
  const tls = tlsFlag === '1' || cert !== undefined || ca !== undefined ? { ca, cert, key } : null;
  return {
    address: address.value,
    namespace: namespace.value,
    taskQueue: taskQueue.value,
    tls,
    origin: { address: address.origin, namespace: namespace.origin, taskQueue: taskQueue.origin },
  };
}

/** "127.0.0.1:7233 (default; FERRY_TEMPORAL_ADDRESS unset), namespace 'prod' (from FERRY_TEMPORAL_NAMESPACE)" */
export function describeTarget(c: ClientConfig): string {
  return `${c.address} (${c.origin.address}), namespace '${c.namespace}' (${c.origin.namespace})`;
}

/** "task queue 'ferry' (default; FERRY_TASK_QUEUE unset)" */
export function describeTaskQueue(c: ClientConfig): string {
  return `task queue '${c.taskQueue}' (${c.origin.taskQueue})`;
}
