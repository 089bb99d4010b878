/**
 * What the drain's commands do: the command line is checked first (a UsageError naming the
 * option, exit 64, before anything is contacted), then Temporal only (client/drain-client.ts).
 */
import { TASK_QUEUE } from '../../workflows/definitions';
import { loadClientConfig } from '../config';
import { cancelDrain, drainState, releaseHost, startDrain, validDrainRequest } from '../drain-client';
import { formatReport, formatVms, progressLine } from '../drain-format';
import { UsageError } from '../errors';
import { EXIT, type ExitCode } from '../exit-codes';
import { FerryClient } from '../ferry-client';
import { parseNumberOption } from '../options';
import { outputFormat, printJson, printText, say } from '../output';
import { parseHostName } from '../refs';
import type { DrainReport } from '../../model/drain/schemas';

export interface DrainOpts {
  output?: string;
  json?: boolean;
  dryRun?: boolean;
  maxParallel?: string;
  maxIntoHost?: string;
  maxCluster?: string;
  linkBandwidth?: string;
  moveBandwidth?: string;
  maxAttempts?: string;
  retryAfter?: string;
  detach?: boolean;
  abortInFlight?: boolean;
  reason?: string;
}

/** Each option and the request field it sets, so an error names what the operator typed. */
const OPTIONS: Array<[keyof DrainOpts, string, string]> = [
  ['maxParallel', '--max-parallel', 'limits.maxParallel'],
  ['maxIntoHost', '--max-into-host', 'limits.maxIntoHost'],
  ['maxCluster', '--max-cluster', 'limits.maxClusterWide'],
  ['linkBandwidth', '--link-bandwidth', 'limits.linkBandwidthMiBps'],
  ['moveBandwidth', '--move-bandwidth', 'limits.moveBandwidthMiBps'],
  ['maxAttempts', '--max-attempts', 'retry.maxAttempts'],
  ['retryAfter', '--retry-after', 'retry.initialBackoffSeconds'],
];
const DRAIN_ONLY: Array<keyof DrainOpts> = ['dryRun', 'detach', ...OPTIONS.map(([k]) => k)];
const CANCEL_ONLY: Array<keyof DrainOpts> = ['abortInFlight', 'reason'];
const flag = (k: keyof DrainOpts) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

async function withClient<T>(fn: (client: FerryClient) => Promise<T>): Promise<T> {
  const client = await FerryClient.connect(loadClientConfig(TASK_QUEUE));
  try {
    return await fn(client);
  } finally {
    await client.close().catch(() => undefined);
  }
}

function refuseOptions(o: DrainOpts, keys: Array<keyof DrainOpts>, where: string): void {
  const given = keys.filter((k) => o[k] !== undefined);
  if (given.length) throw new UsageError(`${given.map(flag).join(', ')} ${given.length > 1 ? 'do' : 'does'} not apply to ${where}`, { options: given.map(flag) });
}

/** `ferry drain <host>`, `ferry drain status <host>`, `ferry drain cancel <host>`. */
export async function drainCommand(first: string, host: string | undefined, o: DrainOpts): Promise<ExitCode> {
  if (first === 'status' || first === 'cancel') {
    if (host === undefined) throw new UsageError(`ferry drain ${first} <host>: the host is missing`, { argument: 'host' });
    const h = parseHostName(host, 'host');
    refuseOptions(o, DRAIN_ONLY, `drain ${first}`);
    if (first === 'status') return status(h, o);
    return cancel(h, o);
  }
  if (host !== undefined) throw new UsageError(`ferry drain takes one host (got '${first}' and '${host}'); for a drain's progress: ferry drain status <host>`, { argument: 'host' });
  refuseOptions(o, CANCEL_ONLY, 'drain <host> (they go with drain cancel <host>)');
  return drain(parseHostName(first, 'host'), o);
}

/** The request from the options: numbers parsed, then the workflow's schema, errors in option terms. */
export function drainRequestFromOptions(host: string, o: DrainOpts) {
  const limits: Record<string, number> = {};
  const retry: Record<string, number> = {};
  for (const [key, option, field] of OPTIONS) {
    const raw = o[key];
    if (typeof raw !== 'string') continue;
    const [section, name] = field.split('.') as ['limits' | 'retry', string];
    (section === 'limits' ? limits : retry)[name] = parseNumberOption(option, raw);
  }
  const input = { host, ...(o.dryRun ? { dryRun: true } : {}), limits, retry };
  try {
    return validDrainRequest(input);
  } catch (err) {
    if (!(err instanceof UsageError) || !Array.isArray(err.details.issues)) throw err;
    const issues = (err.details.issues as string[]).map((line) => {
      const hit = OPTIONS.find(([, , field]) => line.startsWith(`${field}:`));
      return hit ? line.replace(hit[2], hit[1]) : line;
    });
    throw new UsageError(`invalid drain: ${issues.join('; ')}`, { issues });
  }
}

const RESULT_EXIT: Record<DrainReport['result'], ExitCode> = { 'dry-run': EXIT.ok, drained: EXIT.ok, partial: EXIT.failed, cancelled: EXIT.rolledBack };

async function drain(host: string, o: DrainOpts): Promise<ExitCode> {
  const format = outputFormat(o);
  const request = drainRequestFromOptions(host, o);
  return withClient(async (client) => {
    await client.ensureWorker();
    const handle = await startDrain(client, request);
    if (o.detach && !request.dryRun) {
      if (format === 'json') printJson({ workflowId: handle.workflowId, host });
      else printText(handle.workflowId);
      return EXIT.ok;
    }
    if (!request.dryRun) say(`drain ${handle.workflowId} started: ferry drain status ${host} shows it; ferry drain cancel ${host} stops it`);
    const stop = request.dryRun ? () => undefined : watch(client, host);
    let report: DrainReport;
    try {
      report = await handle.result();
    } finally {
      stop();
    }
    if (format === 'json') printJson(report);
    else printText(formatReport(report));
    return RESULT_EXIT[report.result];
  });
}

/** Prints a progress line on stderr whenever the counts change, until stopped. */
function watch(client: FerryClient, host: string): () => void {
  let last = '';
  let stopped = false;
  const tick = async () => {
    while (!stopped) {
      const s = await drainState(client, host).catch(() => undefined);
      if (s?.running) {
        const line = progressLine(s.progress);
        if (line !== last) say(line);
        last = line;
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  };
  void tick();
  return () => { stopped = true; };
}

async function status(host: string, o: DrainOpts): Promise<ExitCode> {
  const format = outputFormat(o);
  return withClient(async (client) => {
    const s = await drainState(client, host);
    if (format === 'json') printJson(s);
    else if (s.running) printText([progressLine(s.progress), formatVms(s.progress.vms)].join('\n'));
    else if (s.report) printText(formatReport(s.report));
    else printText(`drain of ${host}: ${s.status}${s.failure ? `: ${s.failure}` : ''}`);
    return EXIT.ok;
  });
}

async function cancel(host: string, o: DrainOpts): Promise<ExitCode> {
  const format = outputFormat(o);
  const input = { abortInFlight: o.abortInFlight ?? false, ...(o.reason !== undefined ? { reason: o.reason } : {}) };
  return withClient(async (client) => {
    const r = await cancelDrain(client, host, input);
    if (format === 'json') printJson({ host, ...r });
    else printText(r.message);
    return EXIT.ok;
  });
}

export async function release(raw: string, o: { output?: string; json?: boolean }): Promise<ExitCode> {
  const format = outputFormat(o);
  const host = parseHostName(raw, 'host');
  return withClient(async (client) => {
    await client.ensureWorker();
    const r = await releaseHost(client, host);
    if (format === 'json') printJson(r);
    else printText(r.changed ? `${host} is out of maintenance: migrations may pick it again` : `${host} was not in maintenance: nothing changed`);
    return EXIT.ok;
  });
}
