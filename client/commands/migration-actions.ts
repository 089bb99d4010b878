/**
 * What the operator's commands do. Every command checks its command line first (a UsageError,
 * exit 64, before anything is contacted), then reads the configuration, then talks to Temporal
 * only. Loaded when a command runs (it pulls in the Temporal client).
 */
import os from 'node:os';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { migrationRequestJsonSchema } from '../../model/schema-export';
import type { z } from 'zod';
import {
  AbortInputSchema, parseWith, SetBandwidthInputSchema, SetMaxDowntimeInputSchema, type Outcome, type UpdateResult,
} from '../../model/types';
import {
  abortUpdate, forceCompleteUpdate, progressQuery, resumeRecoveryUpdate, setBandwidthUpdate, setMaxDowntimeUpdate, TASK_QUEUE,
} from '../../workflows/definitions';
import { loadClientConfig, type ClientConfig } from '../config';
import { FerryError, UsageError } from '../errors';
import { EXIT, type ExitCode } from '../exit-codes';
import { FerryClient, summary, type MigrationSummary } from '../ferry-client';
import { parseChoiceOption, parseIntegerOption, parseJsonObjectOption, parseNumberOption, parseSinceOption } from '../options';
import { exitCodeFor, formatOutcome, isRefusal, rootFailure } from '../outcome-format';
import { outputFormat, printJson, printText, renderTable, say, type OutputFormat } from '../output';
import { progressLine } from '../progress-bar';
import { parseHostName, parseMigrationRef, parseVmRef } from '../refs';
import { ValidatedRequest } from '../request';
import { restartUnderVmsId, startForVm } from '../migration-start';
import { findWorkflowIdMismatch } from '../../model/workflow-id-mismatch';
import { refuseDestinationIsSource } from '../request';
import { STATUS_WORDS, type MigrationFilters, type StatusWord } from '../visibility';

interface OutputOpts {
  output?: string;
  json?: boolean;
}

function config(): ClientConfig {
  return loadClientConfig(TASK_QUEUE);
}

async function withClient<T>(fn: (client: FerryClient) => Promise<T>): Promise<T> {
  const client = await FerryClient.connect(config());
  try {
    return await fn(client);
  } finally {
    await client.close().catch(() => undefined);
  }
}

// ---- migrate ----------------------------------------------------------------------------------

/** Request fields as the options that set them, so a usage error names what the operator typed. */
const OPTION_OF_FIELD: Array<[RegExp, string]> = [
  [/^vm\b/, 'VM'],
  [/^bandwidthMiBps\b/, '--bandwidth'],
  [/^destination(\.host)?\b/, '--to'],
  [/^policy\.strategy\b/, '--strategy'],
  [/^policy\./, '--policy '],
];

function requestFromOptions(vm: string, o: MigrateOpts): ValidatedRequest {
  if (o.force && o.to === undefined) throw new UsageError('--force needs --to <host>', { option: '--force' });
  const input = {
    vm,
    ...(o.to !== undefined ? { destination: { host: o.to, mode: o.force ? 'force' : 'check' } } : {}),
    ...(o.policy !== undefined || o.strategy !== undefined ? {
      policy: {
        ...(o.policy !== undefined ? parseJsonObjectOption('--policy', o.policy, '{"postcopy":{"allowed":false}}') : {}),
        // --strategy wins over a strategy inside --policy: it is the more specific of the two.
        ...(o.strategy !== undefined ? { strategy: o.strategy } : {}),
      },
    } : {}),
    ...(o.bandwidth !== undefined ? { bandwidthMiBps: parseNumberOption('--bandwidth', o.bandwidth) } : {}),
    requestedBy: requester(),
  };
  return inOptionTerms(() => ValidatedRequest.from(input));
}

/** `fn`'s value; its request UsageError said again with the options for the request's fields. */
function inOptionTerms<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof UsageError) || !Array.isArray(err.details.issues)) throw err;
    const issues = (err.details.issues as string[]).map((line) => {
      const hit = OPTION_OF_FIELD.find(([re]) => re.test(line));
      return hit ? line.replace(hit[0], hit[1]).replace('--policy .', '--policy ') : line;
    });
    throw new UsageError(`invalid migration request: ${issues.join('; ')}`, { ...err.details, issues });
  }
}

/** Who asked, for the migration's audit: user@machine. */
function requester(): string {
  let user = process.env.USER ?? 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    // no passwd entry (containers): keep $USER
  }
  return `${user}@${os.hostname()}`.slice(0, 256);
}

export interface MigrateOpts extends OutputOpts {
  to?: string;
  force?: boolean;
  policy?: string;
  strategy?: string;
  bandwidth?: string;
  detach?: boolean;
}

export async function migrate(vm: string, o: MigrateOpts): Promise<ExitCode> {
  const format = outputFormat(o);
  const request = requestFromOptions(vm, o);
  return withClient(async (client) => {
    let started = await startForVm(client, request, { detach: o.detach, inOptionTerms });
    if (o.detach) {
      const { workflowId, runId, vm: at } = started;
      if (format === 'json') printJson({ workflowId, runId, vm: at });
      else printText(workflowId);
      return EXIT.ok;
    }
    let outcome: Outcome;
    for (;;) {
      const to = request.value.destination ? ` -> ${request.value.destination.host}` : '';
      say(`migration ${started.workflowId} started: ${started.vm.name}${started.vm.host ? ` on ${started.vm.host}` : ''}${to}`);
      const result = await outcomeOf(client, started.workflowId);
      if ('outcome' in result) {
        outcome = result.outcome;
        break;
      }
      // Started under a UUID guessed from an earlier migration of that name, which the name no
      // longer has: the workflow refused before touching anything and named the VM's UUID.
      const mismatch = started.guessed ? findWorkflowIdMismatch(failureDetails(result.failure)) : null;
      // Started without a locate, the workflow is the first to see that --to is where the VM runs:
      // the same usage error a locate gives (exit 64, naming --to), before anything changed.
      const ownHost = destinationIsSource(failureDetails(result.failure));
      if (ownHost !== null) inOptionTerms(() => refuseDestinationIsSource(request.value, ownHost));
      if (mismatch === null) throw migrationFailed(started.workflowId, result.failure);
      say(`VM '${started.vm.name}' is now VM ${mismatch.vmUuid}, not ${started.vm.uuid}: starting its own migration`);
      started = await restartUnderVmsId(client, request, mismatch);
    }
    // startedVia: how the workflow id was found (client/migration-start.ts), for bench/overhead and the curious.
    if (format === 'json') printJson({ workflowId: started.workflowId, outcome, startedVia: started.via });
    else printText(formatOutcome(outcome));
    return exitCodeFor(outcome);
  });
}

/**
 * The outcome, or the failure the workflow ended with, while the progress bar runs. The result is
 * Temporal's long poll of the workflow's close event: the answer comes the moment it closes.
 */
async function outcomeOf(client: FerryClient, id: string): Promise<{ outcome: Outcome } | { failure: WorkflowFailedError }> {
  const stopWatching = watchProgress(client, id);
  try {
    return { outcome: await client.result(id) };
  } catch (err) {
    if (err instanceof WorkflowFailedError) return { failure: err };
    throw err;
  } finally {
    stopWatching();
  }
}

function migrationFailed(id: string, err: WorkflowFailedError): FerryError {
  const root = rootFailure(err);
  const refused = isRefusal(err);
  return new FerryError(refused ? EXIT.refused : EXIT.failed, `migration ${id} ${refused ? 'refused' : 'failed'}: ${root.message}`, {
    workflowId: id,
    failureType: root.type,
  });
}

/** The host a refusal says is both source and destination (activities' `destinationIsSource` detail), else null. */
function destinationIsSource(details: readonly unknown[]): string | null {
  const d = details.find((x): x is { destinationIsSource: string } =>
    typeof x === 'object' && x !== null && typeof (x as { destinationIsSource?: unknown }).destinationIsSource === 'string');
  return d?.destinationIsSource ?? null;
}

/** The details of the innermost application failure (where the workflow's refusal carries them). */
function failureDetails(err: WorkflowFailedError): unknown[] {
  let details: unknown[] = [];
  for (let e: unknown = err; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    if (e instanceof ApplicationFailure) details = [...(e.details ?? [])];
  }
  return details;
}

/** The progress bar on stderr until the result is in; Ctrl-C stops watching, not the migration. */
function watchProgress(client: FerryClient, id: string): () => void {
  const tty = process.stderr.isTTY === true;
  let last = '';
  const timer = setInterval(() => {
    client.handle(id).query(progressQuery).then((p) => {
      const line = progressLine(p);
      if (tty) process.stderr.write(`\r\x1b[2K${line}`);
      else if (line !== last) say(line);
      last = line;
    }, () => undefined);
  }, tty ? 500 : 2000);
  const onInterrupt = () => {
    say(`\nferry: stopped watching; migration ${id} goes on (ferry status ${id}, ferry abort ${id})`);
    process.exit(EXIT.interrupted);
  };
  process.once('SIGINT', onInterrupt);
  return () => {
    clearInterval(timer);
    process.off('SIGINT', onInterrupt);
    if (tty && last !== '') process.stderr.write('\n');
  };
}

// ---- status -----------------------------------------------------------------------------------

export async function status(ref: string, o: OutputOpts): Promise<ExitCode> {
  const format = outputFormat(o);
  const migration = parseMigrationRef(ref);
  return withClient(async (client) => {
    const id = await client.resolveMigration(migration);
    const d = await client.describe(id);
    const base = summary(d);
    const head = [
      `migration  ${id} (run ${d.runId})`,
      `vm         ${base.vm ?? '-'} (${base.vmUuid ?? '-'})`,
      `route      ${base.source ?? '-'} -> ${base.destination ?? '-'}`,
      `status     ${base.status}, started ${base.startTime.toISOString()}${base.closeTime ? `, closed ${base.closeTime.toISOString()}` : ''}`,
    ];
    if (d.status.name === 'RUNNING') {
      const answer = await Promise.all([client.progress(id), client.policy(id), client.decisions(id)]).then(
        ([progress, policy, decisions]) => ({ progress, policy, decisions }),
        (err: unknown) => ({ queryError: `no answer to the progress query (is a worker running on task queue '${client.taskQueue}'?): ${rootFailure(err).message}` }),
      );
      if (format === 'json') printJson({ ...base, ...answer });
      else if ('queryError' in answer) printText([...head, `progress   ${answer.queryError}`].join('\n'));
      else {
        printText([
          ...head,
          `progress   ${progressLine(answer.progress)}`,
          'decisions',
          ...answer.decisions.map((x) => `  +${(x.atMs / 1000).toFixed(1)}s ${x.action}: ${x.reason}`),
        ].join('\n'));
      }
      return EXIT.ok;
    }
    const ended = await client.result(id).then(
      (outcome) => ({ outcome }),
      (err: unknown) => ({ failure: rootFailure(err) }),
    );
    if (format === 'json') printJson({ ...base, ...ended });
    else printText([...head, 'outcome' in ended ? formatOutcome(ended.outcome) : `failure    ${ended.failure.message}`].join('\n'));
    return EXIT.ok;
  });
}

// ---- list and history -------------------------------------------------------------------------

const when = (d: Date | null) => (d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-');
const route = (m: MigrationSummary) => `${m.source ?? '-'} -> ${m.destination ?? '-'}`;

export interface ListOpts extends OutputOpts {
  vm?: string;
  host?: string;
  status?: string;
  running?: boolean;
  since?: string;
  limit?: string;
}

export async function list(o: ListOpts): Promise<ExitCode> {
  const format = outputFormat(o);
  const filters: MigrationFilters = {};
  if (o.vm !== undefined) filters.vm = parseVmRef(o.vm, '--vm');
  if (o.host !== undefined) filters.host = parseHostName(o.host, '--host');
  if (o.status !== undefined) filters.status = parseChoiceOption<StatusWord>('--status', o.status, STATUS_WORDS);
  if (o.running) {
    if (filters.status !== undefined && filters.status !== 'running') throw new UsageError(`--running contradicts --status ${filters.status}`);
    filters.status = 'running';
  }
  if (o.since !== undefined) filters.since = parseSinceOption(o.since);
  const limit = o.limit === undefined ? 50 : parseIntegerOption('--limit', o.limit);
  return withClient(async (client) => {
    const rows = await client.list(filters, limit);
    if (format === 'json') printJson(rows);
    else {
      printText(renderTable(
        ['STARTED', 'MIGRATION', 'RUN', 'STATUS', 'VM', 'SOURCE -> DESTINATION', 'PHASE', 'OUTCOME'],
        rows.map((m) => [when(m.startTime), m.workflowId, m.runId, m.status, m.vm ?? '-', route(m), m.phase ?? '-', m.outcome ?? '-']),
      ));
      if (rows.length === 0) say(`no migration matches (namespace '${client.config.namespace}')`);
    }
    return EXIT.ok;
  });
}

export async function history(vm: string, o: OutputOpts & { limit?: string }): Promise<ExitCode> {
  const format = outputFormat(o);
  const ref = parseVmRef(vm);
  const limit = o.limit === undefined ? 500 : parseIntegerOption('--limit', o.limit);
  return withClient(async (client) => {
    const rows = await client.history(ref, limit);
    if (format === 'json') printJson(rows);
    else {
      printText(renderTable(
        ['STARTED', 'CLOSED', 'MIGRATION', 'RUN', 'SOURCE -> DESTINATION', 'STATUS', 'OUTCOME'],
        rows.map((m) => [when(m.startTime), when(m.closeTime), m.workflowId, m.runId, route(m), m.status, m.outcome ?? '-']),
      ));
      if (rows.length === 0) say(`no migration of VM ${'uuid' in ref ? ref.uuid : `'${ref.name}'`} is known (namespace '${client.config.namespace}')`);
    }
    return EXIT.ok;
  });
}

// ---- operator updates -------------------------------------------------------------------------

/** An update's input checked with the workflow's own schema before anything is contacted; errors name the option. */
function checked<S extends z.ZodType>(schema: S, input: unknown, option: string): z.output<S> {
  const r = parseWith(schema, input, 'input');
  if (r.ok) return r.value;
  const issues = r.issues.map((line) => line.replace(/^\w+/, option));
  throw new UsageError(issues.join('; '), { issues });
}

function printUpdate(format: OutputFormat, id: string, results: Array<{ update: string } & UpdateResult>): void {
  if (format === 'json') printJson({ workflowId: id, results });
  else printText(results.map((r) => `${id}: ${r.message}`).join('\n'));
}

/**
 * One operator update on the migration `ref` names: the arguments were checked before anything
 * is contacted; a validator's refusal becomes exit 2 with its reason (client.update).
 */
async function operatorUpdate(ref: string, o: OutputOpts, name: string, send: (client: FerryClient, id: string) => Promise<UpdateResult>): Promise<ExitCode> {
  const format = outputFormat(o);
  const migration = parseMigrationRef(ref);
  return withClient(async (client) => {
    const id = await client.resolveMigration(migration);
    const r = await send(client, id);
    printUpdate(format, id, [{ update: name, ...r }]);
    return EXIT.ok;
  });
}

export async function abort(ref: string, o: OutputOpts & { reason?: string }): Promise<ExitCode> {
  const input = checked(AbortInputSchema, o.reason === undefined ? {} : { reason: o.reason }, '--reason');
  return operatorUpdate(ref, o, abortUpdate.name, (client, id) => client.abort(id, input.reason));
}

export async function forceComplete(ref: string, o: OutputOpts): Promise<ExitCode> {
  return operatorUpdate(ref, o, forceCompleteUpdate.name, (client, id) => client.forceComplete(id));
}

export async function resumeRecovery(ref: string, o: OutputOpts): Promise<ExitCode> {
  return operatorUpdate(ref, o, resumeRecoveryUpdate.name, (client, id) => client.resumeRecovery(id));
}

export async function set(ref: string, o: OutputOpts & { maxDowntime?: string; bandwidth?: string }): Promise<ExitCode> {
  const format = outputFormat(o);
  const migration = parseMigrationRef(ref);
  if (o.maxDowntime === undefined && o.bandwidth === undefined) {
    throw new UsageError('give --max-downtime <ms> and/or --bandwidth <MiB/s>', { options: ['--max-downtime', '--bandwidth'] });
  }
  const downtime = o.maxDowntime === undefined ? undefined
    : checked(SetMaxDowntimeInputSchema, { ms: parseNumberOption('--max-downtime', o.maxDowntime) }, '--max-downtime');
  const bandwidth = o.bandwidth === undefined ? undefined
    : checked(SetBandwidthInputSchema, { mibps: parseNumberOption('--bandwidth', o.bandwidth) }, '--bandwidth');
  return withClient(async (client) => {
    const id = await client.resolveMigration(migration);
    const results: Array<{ update: string } & UpdateResult> = [];
    try {
      if (downtime) results.push({ update: setMaxDowntimeUpdate.name, ...(await client.setMaxDowntime(id, downtime.ms)) });
      if (bandwidth) results.push({ update: setBandwidthUpdate.name, ...(await client.setBandwidth(id, bandwidth.mibps)) });
    } catch (err) {
      // What was accepted before the refusal stays accepted: say so with the refusal.
      if (err instanceof FerryError && results.length > 0) {
        throw new FerryError(err.exitCode, `${err.message} (accepted before: ${results.map((r) => r.message).join('; ')})`, { ...err.details, results });
      }
      throw err;
    }
    printUpdate(format, id, results);
    return EXIT.ok;
  });
}

// ---- schema -----------------------------------------------------------------------------------

export async function schema(o: OutputOpts): Promise<ExitCode> {
  outputFormat(o); // the schema is JSON in both formats; the option is still checked
  printJson(migrationRequestJsonSchema());
  return EXIT.ok;
}
