/**
 * `ferry stack up|status|down`: the production-shaped stack on this machine (stack/): the official
 * Temporal server on PostgreSQL with mTLS, Placement, two ferry workers. The one file of client/
 * besides lab.ts that may import a machine-side folder (stack/); its code loads only when a
 * stack command runs.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { FerryError, UsageError } from '../errors';
import { EXIT } from '../exit-codes';
import { outputFormat, printJson, printText, renderTable, say, withOutputOptions } from '../output';

interface OutputOpts {
  output?: string;
  json?: boolean;
}

type StackModule = typeof import('../../stack/stack');
const stack = () => require('../../stack/stack') as StackModule;

/** A stack that cannot do what was asked is exit 69 with its own words. */
function stackAction<A extends unknown[]>(fn: (...args: A) => Promise<void>) {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      if (err instanceof FerryError) throw err;
      throw new FerryError(EXIT.unavailable, `the stack: ${(err as Error).message}`);
    }
  };
}

function printStatus(s: import('../../stack/stack').StackStatus): void {
  const pid = (p: number | null) => (p === null ? 'down' : `pid ${p}`);
  const rows = [
    ['temporal', `${s.temporal.address} (server ${s.version}, mTLS, namespace ${s.temporal.namespace})`, pid(s.temporal.pid)],
    ['postgres', s.postgres.address, pid(s.postgres.pid)],
    ['placement', s.placement.url, pid(s.placement.pid)],
    ...s.workers.map((w) => [w.name, `task queue ${s.taskQueue}, Temporal from ${w.configuredBy}`, pid(w.pid)]),
  ];
  printText(renderTable(['PART', 'WHERE', 'STATE'], rows));
  printText(`\nferry and temporal reach it with: TEMPORAL_CONFIG_FILE=${s.clientConfig.file} TEMPORAL_PROFILE=${s.clientConfig.profile}`);
}

export function registerStackCommands(program: Command): void {
  const group = program.command('stack').description('the production shape on this machine: Temporal server on PostgreSQL with mTLS, Placement, two ferry workers');

  withOutputOptions(
    group
      .command('up')
      .description('bring the stack up (idempotent): builds the pinned Temporal server once, PostgreSQL, certificates, search attributes, Placement, two workers')
      .option('--hosts-file <file>', "the workers' hosts inventory (FERRY_HOSTS_FILE's format); default: no libvirt host"),
  ).action(async (o: OutputOpts & { hostsFile?: string }) => {
    const format = outputFormat(o);
    if (o.hostsFile !== undefined && !fs.existsSync(o.hostsFile)) throw new UsageError(`--hosts-file ${o.hostsFile}: no such file`);
    await stackAction(async () => {
      const status = await stack().stackUp(say, o.hostsFile ? { hostsFile: o.hostsFile } : {});
      if (format === 'json') printJson(status);
      else printStatus(status);
    })();
  });

  withOutputOptions(group.command('status').description('what of the stack runs, and how to point ferry or temporal at it')).action(
    stackAction(async (o: OutputOpts) => {
      const format = outputFormat(o);
      const status = stack().stackStatus();
      if (format === 'json') printJson(status);
      else printStatus(status);
    }),
  );

  withOutputOptions(group.command('down').description('stop everything the stack started, by PID (its data stays under the stack dir)')).action(
    stackAction(async (o: OutputOpts) => {
      const format = outputFormat(o);
      const before = stack().stackStatus();
      const pids = [before.temporal.pid, before.postgres.pid, before.placement.pid, ...before.workers.map((w) => w.pid)].filter((p): p is number => p !== null);
      await stack().stackDown(say);
      const left = await stack().stackLeftovers(pids);
      if (format === 'json') printJson({ stopped: pids, left });
      if (left.length > 0) throw new FerryError(EXIT.unavailable, `the stack did not stop cleanly: ${left.join('; ')}`);
      say('stack is down');
    }),
  );
}
