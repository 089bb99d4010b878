/**
 * bench/overhead/orchestration.ts: what orchestration alone costs, without the lab. `ferry migrate`
 * runs as a whole CLI process against a local Temporal dev server (the pinned CLI the workflow
 * tests use) and a worker whose activities are the workflow tests' instant fakes
 * (test/workflow/support/fake-activities.ts): one watch round that finds the guest on the
 * destination. What is left is ferry's own cost: the CLI's start, its round trips to Temporal, the
 * workflow's tasks and activity hops, and the wait for the result. Interleaved with a bare `node`
 * process (the floor every CLI pays).
 *
 *   npx tsx bench/overhead/orchestration.ts --runs 10
 *   # another tree's CLI and workflows (e.g. an older commit unpacked with git archive):
 *   npx tsx bench/overhead/orchestration.ts --runs 10 --tree /tmp/ferry-old
 *
 * The first `ferry migrate` of the VM is located by a worker (the locateVm workflow); later ones
 * start under the UUID Temporal recorded (client/migration-start.ts): both are reported.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Command } from 'commander';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { temporalExecutable } from '../../lab/temporal';
import { repoRoot } from '../../lab/paths';
import { ferrySearchAttributes } from '../../model/search-attributes';
import { endedOnDestination, fakeActivities } from '../../test/workflow/support/fake-activities';
import { summarize } from '../stats';
import { timesOf } from './history';
import { STEPS, splitBySteps, type Step } from './steps';

const TASK_QUEUE = 'ferry-orchestration-bench';

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; code: number | null; stdout: string; err: string; spawnedAtMs: number; exitedAtMs: number }> {
  return new Promise((resolve) => {
    const spawnedAtMs = Date.now();
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let err = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (err += b));
    child.on('close', (code) => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, code, stdout, err, spawnedAtMs, exitedAtMs: Date.now() }));
  });
}

async function main(): Promise<void> {
  const o = new Command()
    .option('--runs <n>', 'migrations (after one that locates the VM)', '10')
    .option('--tree <dir>', "the ferry tree whose CLI and workflows run (default: this one; its node_modules must resolve)", repoRoot)
    .parse()
    .opts<{ runs: string; tree: string }>();
  const runs = Number(o.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a whole number >= 1, got '${o.runs}'`);
  const tree = path.resolve(o.tree);

  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const [env, bundle] = await Promise.all([
    TestWorkflowEnvironment.createLocal({ server: { executable: temporalExecutable(), ip: '127.0.0.1', searchAttributes: [...ferrySearchAttributes] } }),
    bundleWorkflowCode({ workflowsPath: path.join(tree, 'workflows', 'index.ts'), logger: new DefaultLogger('ERROR') }),
  ]);
  const fake = fakeActivities({ samples: [endedOnDestination()], repeatDelayMs: 0, postcopySupported: false });
  const worker = await Worker.create({
    connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue: TASK_QUEUE, workflowBundle: bundle, activities: fake.activities,
  });
  const cliEnv = {
    ...process.env, TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: env.namespace ?? 'default', TEMPORAL_TLS: 'false', FERRY_TASK_QUEUE: TASK_QUEUE,
  };
  const ferry = path.join(tree, 'bin', 'ferry');
  const rows: Array<{
    ms: number; via: string; beforeStartMs: number; workflowMs: number; afterCloseMs: number; steps: Record<Step, number>; firstTaskPickupMs: number; firstTaskRunMs: number;
  }> = [];
  const floor: number[] = [];
  try {
    await worker.runUntil(async () => {
      for (let i = 0; i <= runs; i++) {
        const bare = await run(process.execPath, ['-e', '0'], cliEnv);
        floor.push(bare.ms);
        const r = await run(process.execPath, [ferry, 'migrate', fake.vm.name, '--to', 'host-a', '--json'], cliEnv);
        if (r.code !== 0) throw new Error(`ferry migrate exited ${r.code}: ${(r.err + r.stdout).slice(-1500)}`);
        const out = JSON.parse(r.stdout) as { workflowId: string; startedVia?: string };
        const wt = timesOf((await env.client.workflow.getHandle(out.workflowId).fetchHistory()).events ?? []);
        const row = {
          ms: r.ms, via: out.startedVia ?? 'located (before startedVia)',
          beforeStartMs: wt.startedMs - r.spawnedAtMs, workflowMs: wt.closedMs - wt.startedMs, afterCloseMs: r.exitedAtMs - wt.closedMs,
          steps: splitBySteps(wt),
          // The first workflow task: from the start to a worker's pick-up, then its run (the workflow's first activation).
          firstTaskPickupMs: wt.firstTask ? wt.firstTask.startedMs - wt.startedMs : NaN,
          firstTaskRunMs: wt.firstTask ? wt.firstTask.completedMs - wt.firstTask.startedMs : NaN,
        };
        rows.push(row);
        const s = (x: number) => (x / 1000).toFixed(3);
        console.log(`run ${i} via ${row.via}: ${s(r.ms)} s = before start ${s(row.beforeStartMs)} + workflow ${s(row.workflowMs)} ` +
          `(${STEPS.map((k) => `${k} ${s(row.steps[k])}`).join(', ')}; first task picked up after ${s(row.firstTaskPickupMs)}, ran ${s(row.firstTaskRunMs)}) ` +
          `+ after close ${s(row.afterCloseMs)}; bare node ${s(bare.ms)}`);
      }
    });
  } finally {
    await env.teardown();
  }

  const med = (xs: number[]) => summarize(xs).median;
  const s = (x: number) => `${(x / 1000).toFixed(3)} s`;
  const groups = new Map<string, typeof rows>();
  for (const r of rows) groups.set(r.via, [...(groups.get(r.via) ?? []), r]);
  console.log('');
  console.log(`ferry migrate with instant fake activities, whole CLI processes; median (n); tree ${tree}`);
  console.log(`  bare node process ${s(med(floor))} (${floor.length})`);
  const summary: Record<string, unknown> = {};
  for (const [via, rs] of groups) {
    const m = {
      totalMs: med(rs.map((r) => r.ms)), beforeStartMs: med(rs.map((r) => r.beforeStartMs)), workflowMs: med(rs.map((r) => r.workflowMs)),
      afterCloseMs: med(rs.map((r) => r.afterCloseMs)),
      firstTaskPickupMs: med(rs.map((r) => r.firstTaskPickupMs)), firstTaskRunMs: med(rs.map((r) => r.firstTaskRunMs)), stepsMs: Object.fromEntries(STEPS.map((k) => [k, med(rs.map((r) => r.steps[k]))])),
    };
    summary[via] = { n: rs.length, ...m };
    console.log(`  via ${via} (${rs.length}): ${s(m.totalMs)} = before start ${s(m.beforeStartMs)} + workflow ${s(m.workflowMs)} + after close ${s(m.afterCloseMs)}; ` +
      `steps ${STEPS.map((k) => `${k} ${s(m.stepsMs[k] as number)}`).join(', ')}; first workflow task picked up after ${s(m.firstTaskPickupMs)}, ran ${s(m.firstTaskRunMs)}`);
  }
  console.log(JSON.stringify({ bench: 'overhead-orchestration', at: new Date().toISOString(), tree, runs, bareNodeMs: med(floor), byStartedVia: summary }));
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`bench/overhead/orchestration: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
