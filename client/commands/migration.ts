import type { Command } from 'commander';
import { labGuestMeter } from '../../lab/guest-meter';
import { labInventory } from '../../lab/inventory';
import { startPlacement } from '../../lab/placement';
import { readLabState } from '../../lab/state';
import { loadWorkerConfig } from '../../worker/config';
import { createFerryWorker } from '../../worker/worker';
import { migrationRequestJsonSchema } from '../../model/schema-export';
import { parseMigrationRequest, type Outcome, type Progress } from '../../model/types';
import { cliConfig, cliInventory, resolveVmUuid, withFerryClient } from '../context';
import { parseNumberOption } from '../options';
import { EXIT, exitCodeFor, exitCodeForError, formatOutcome, rootFailure } from '../outcome-format';
import { renderBar } from '../progress-bar';

const say = (line: string) => process.stderr.write(`${line}\n`);
const print = (x: unknown) => process.stdout.write(`${typeof x === 'string' ? x : JSON.stringify(x, null, 2)}\n`);

function parsePolicy(raw: string | undefined): unknown {
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    throw new Error(`--policy must be a JSON object, e.g. '{"postcopy":{"allowed":false}}'; got ${raw}`);
  }
}

function progressLine(p: Progress): string {
  return renderBar({
    phase: p.phase,
    view: { percent: p.percent, etaMs: p.etaMs, expectedDowntimeMs: p.expectedDowntimeMs, converging: p.verdict === 'stalled' ? false : null },
    iteration: p.iteration,
    dirtyBps: p.dirtyBps,
    bandwidthBps: p.bandwidthBps,
  }) + (p.verdict ? `  ${p.verdict}` : '');
}

export function registerMigrationCommands(program: Command): void {
  program
    .command('worker')
    .description('run a ferry worker (Temporal task queue "ferry"): hosts from FERRY_HOSTS_FILE or the lab')
    .action(async () => {
      const config = loadWorkerConfig();
      const c = await cliConfig();
      const lab = readLabState() !== undefined;
      const { worker, close } = await createFerryWorker({
        config: { ...config, FERRY_TEMPORAL_ADDRESS: c.FERRY_TEMPORAL_ADDRESS },
        fallback: lab ? { inventory: labInventory, placementUrl: async () => (await startPlacement()).url, guestMeter: labGuestMeter } : undefined,
      });
      const stop = () => worker.shutdown();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      say(`ferry worker on task queue '${config.FERRY_TASK_QUEUE}' at ${c.FERRY_TEMPORAL_ADDRESS}`);
      await worker.run();
      await close();
    });

  program
    .command('migrate <vm>')
    .description('live-migrate a VM (name or UUID) with a progress bar; exit 0 completed, 2 refused, 3 rolled back, 1 failed')
    .option('--to <host>', 'destination host (default: Placement chooses one with room)')
    .option('--force', 'with --to: skip the Placement candidate check (the claim still checks capacity)')
    .option('--policy <json>', 'policy overrides as JSON (ferry schema shows them)')
    .option('--bandwidth <MiB/s>', 'migration bandwidth cap')
    .option('--json', 'print the outcome as JSON')
    .option('--detach', 'start and print the workflow id, without waiting')
    .action(async (vm: string, o: { to?: string; force?: boolean; policy?: string; bandwidth?: string; json?: boolean; detach?: boolean }) => {
      const request = {
        vm,
        ...(o.to ? { destination: { host: o.to, mode: o.force ? 'force' : 'check' } } : {}),
        ...(o.policy !== undefined ? { policy: parsePolicy(o.policy) } : {}),
        ...(o.bandwidth !== undefined ? { bandwidthMiBps: parseNumberOption('--bandwidth', o.bandwidth) } : {}),
      };
      const parsed = parseMigrationRequest(request);
      if (!parsed.ok) {
        say(`ferry: ${parsed.error}`);
        process.exitCode = EXIT.refused;
        return;
      }
      const config = await cliConfig();
      const inventory = cliInventory(config);
      const unknown = o.to ? inventory.unknownHost(o.to) : undefined;
      if (unknown) {
        say(`ferry: --to: ${unknown}`);
        process.exitCode = EXIT.refused;
        return;
      }
      let uuid: string;
      try {
        ({ uuid } = await resolveVmUuid(inventory, vm));
      } catch (err) {
        say(`ferry: refused: ${(err as Error).message}`);
        process.exitCode = EXIT.refused;
        return;
      }
      await withFerryClient(async (client) => {
        const handle = await client.startMigration(request, uuid);
        if (o.detach) {
          print(o.json ? { workflowId: handle.workflowId } : handle.workflowId);
          return;
        }
        say(`migration ${handle.workflowId} started`);
        const tty = process.stderr.isTTY === true;
        let last = '';
        const timer = setInterval(() => {
          handle.query<Progress>('progress').then((p) => {
            const line = progressLine(p);
            if (tty) process.stderr.write(`\r\x1b[2K${line}`);
            else if (line !== last) say(line);
            last = line;
          }, () => undefined);
        }, tty ? 500 : 2000);
        let outcome: Outcome;
        try {
          outcome = await handle.result();
        } catch (err) {
          clearInterval(timer);
          if (tty) process.stderr.write('\n');
          const root = rootFailure(err);
          say(`ferry: migration ${root.type === 'Refused' || root.type === 'InvalidInput' ? 'refused' : 'failed'}: ${root.message}`);
          if (o.json) print({ workflowId: handle.workflowId, refused: root.type === 'Refused' || root.type === 'InvalidInput', error: root });
          process.exitCode = exitCodeForError(err);
          return;
        }
        clearInterval(timer);
        if (tty) process.stderr.write('\n');
        print(o.json ? outcome : formatOutcome(outcome));
        process.exitCode = exitCodeFor(outcome);
      });
    });

  program
    .command('status <id>')
    .description('progress, policy and decisions of a migration (workflow id)')
    .option('--json', 'JSON')
    .action(async (id: string, o: { json?: boolean }) =>
      withFerryClient(async (client) => {
        const desc = await client.handle(id).describe();
        if (desc.status.name !== 'RUNNING') {
          const outcome = await client.result(id).catch((err) => ({ error: rootFailure(err) }));
          print(o.json ? { status: desc.status.name, outcome } : `${desc.status.name}\n${'migrationId' in outcome ? formatOutcome(outcome) : outcome.error.message}`);
          return;
        }
        const [progress, decisions] = await Promise.all([client.progress(id), client.decisions(id)]);
        if (o.json) print({ status: desc.status.name, progress, decisions });
        else print(`${progressLine(progress)}\n${decisions.map((d) => `  +${(d.atMs / 1000).toFixed(1)}s ${d.action}: ${d.reason}`).join('\n')}`);
      }));

  program
    .command('list')
    .description('migrations known to Temporal, newest first')
    .option('--running', 'only running ones')
    .option('--json', 'JSON')
    .action(async (o: { running?: boolean; json?: boolean }) =>
      withFerryClient(async (client) => {
        const rows = await client.list(`WorkflowType = 'liveMigration'${o.running ? " AND ExecutionStatus = 'Running'" : ''}`);
        if (o.json) print(rows);
        else for (const r of rows) print(`${r.workflowId}\t${r.status}\t${r.vm ?? '-'}\t${r.source ?? '-'} -> ${r.destination ?? '-'}\t${r.phase ?? '-'}\t${r.outcome ?? '-'}`);
      }));

  program
    .command('history <vm>')
    .description("a VM's past migrations (name or UUID), from Temporal visibility")
    .option('--json', 'JSON')
    .action(async (vm: string, o: { json?: boolean }) =>
      withFerryClient(async (client) => {
        const rows = await client.history(vm);
        if (o.json) print(rows);
        else for (const r of rows) print(`${r.startTime.toISOString()}\t${r.workflowId}\t${r.source ?? '-'} -> ${r.destination ?? '-'}\t${r.outcome ?? r.status}`);
      }));

  program
    .command('abort <id>')
    .description('abort a migration before the switch-over (it rolls back); refused in post-copy')
    .option('--reason <text>', 'why, for the record')
    .action(async (id: string, o: { reason?: string }) => runUpdate(() => withFerryClient((c) => c.abort(id, o.reason))));
  program
    .command('force-complete <id>')
    .description('finish now: post-copy if allowed, else pause the guest')
    .action(async (id: string) => runUpdate(() => withFerryClient((c) => c.forceComplete(id))));
  program
    .command('set <id>')
    .description('change a running migration: max downtime and/or bandwidth')
    .option('--max-downtime <ms>', 'max downtime in ms')
    .option('--bandwidth <MiB/s>', 'bandwidth in MiB/s')
    .action(async (id: string, o: { maxDowntime?: string; bandwidth?: string }) => {
      if (o.maxDowntime === undefined && o.bandwidth === undefined) throw new Error('give --max-downtime and/or --bandwidth');
      if (o.maxDowntime !== undefined) await runUpdate(() => withFerryClient((c) => c.setMaxDowntime(id, parseNumberOption('--max-downtime', o.maxDowntime!))));
      if (o.bandwidth !== undefined) await runUpdate(() => withFerryClient((c) => c.setBandwidth(id, parseNumberOption('--bandwidth', o.bandwidth!))));
    });

  program
    .command('schema')
    .description('the JSON Schema of a migration request (for the Temporal CLI and UI)')
    .action(() => {
      print(migrationRequestJsonSchema());
    });
}

/** Runs an update; a refusal from the workflow's validator exits 2 with its reason. */
async function runUpdate(fn: () => Promise<{ message: string }>): Promise<void> {
  try {
    const r = await fn();
    print(r.message);
  } catch (err) {
    say(`ferry: refused: ${rootFailure(err).message}`);
    process.exitCode = EXIT.refused;
  }
}
