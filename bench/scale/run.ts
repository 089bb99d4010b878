/**
 * bench/scale: N LiveMigration workflows at once on ONE sim worker (worker/sim-worker.ts: the real
 * workflows, hosts/QEMU/Placement simulated by the dirty-page model), against the pinned Temporal
 * dev server (never a download). Per N: completions per second, p50/p99 time to complete against
 * the model's ideal for the same VM, the worker's RSS and CPU, history events per migration (read
 * from the histories, all runs of a continued one), and the growth from the first N to each.
 *
 *   npx tsx bench/scale/run.ts --counts 100,300,1000 [--speed 1] [--out bench/results/scale-<date>.txt]
 *     [--max-cached-workflows n] [--max-concurrent-workflow-tasks n] [--max-concurrent-activities n]
 *
 * Every round uses VMs no earlier round moved (the fleet holds the sum of the counts). Moves are
 * admitted by the bench itself (`admittedBy`, as a drain admits its moves): all N run at once on
 * purpose; the shared admission limits (at most 256 cluster-wide) would otherwise queue them.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { temporalExecutable } from '../../lab/temporal';
import { FerryClient } from '../../client/ferry-client';
import { loadClientConfig } from '../../client/config';
import { ValidatedRequest } from '../../client/request';
import { TASK_QUEUE } from '../../workflows/definitions';
import { ferrySearchAttributes } from '../../model/search-attributes';
import { idealRun, LAB_TIMING } from '../../model/sim/dirty-page-model';
import { fleetOf, SimFleetSpecSchema, type SimFleetSpec, type SimVmSpec } from '../../model/sim/fleet-spec';
import { quantile } from '../stats';
import type { WorkerUsage } from './worker-process';

const MiB = 1024 * 1024;
const HOSTS = 20;

interface Round {
  n: number;
  wallMs: number;
  completed: number;
  failed: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  idealP50Ms: number;
  idealP99Ms: number;
  /** Median over migrations of (time to complete / the model's ideal). */
  slowdownP50: number;
  rssPeakMiB: number;
  cpuSeconds: number;
  cpuPctOfOneCore: number;
  historyEventsMean: number;
  historyEventsMax: number;
  historiesRead: number;
  runsMax: number;
  /** The bench's own process (the typed client starting N and waiting for N results). */
  benchCpuSeconds: number;
  /** The whole machine's cores busy over the round (/proc/stat): the dev server, other tenants, everyone. */
  machineBusyPct: number;
}

/** Busy and total jiffies of all cores (/proc/stat's first line). */
function machineJiffies(): { busy: number; total: number } {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** The model's ideal for a VM: its migration alone, nothing but the model (real ms at `speed`). */
function idealMs(vm: SimVmSpec, spec: SimFleetSpec): number {
  const end = idealRun(
    { memoryBytes: vm.memoryMiB * MiB, touchedBytes: vm.touchedBytes, dirtyBps: vm.dirtyBps, workingSetBytes: vm.workingSetBytes },
    { linkBps: spec.linkMiBps * MiB }, { capBps: null, maxDowntimeMs: 300, timing: LAB_TIMING },
  );
  return end.elapsedMs / spec.speed;
}

function usageOf(child: ChildProcess): Promise<WorkerUsage> {
  return new Promise((resolve) => {
    const on = (m: { kind: string; usage?: WorkerUsage }) => {
      if (m.kind === 'usage') {
        child.off('message', on);
        resolve(m.usage!);
      }
    };
    child.on('message', on);
    child.send({ kind: 'usage' });
  });
}

async function historyOf(client: FerryClient, workflowId: string): Promise<{ events: number; runs: number }> {
  let runId: string | undefined;
  let events = 0;
  let runs = 0;
  for (;;) {
    const history = await client.client.workflow.getHandle(workflowId, runId).fetchHistory();
    runs++;
    events += history.events?.length ?? 0;
    const last = history.events?.[history.events.length - 1];
    const next = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
    if (!next) return { events, runs };
    runId = next;
  }
}

async function runRound(client: FerryClient, child: ChildProcess, vms: SimVmSpec[], spec: SimFleetSpec, historySample: number): Promise<Round> {
  const before = await usageOf(child);
  const benchBefore = process.cpuUsage();
  const machineBefore = machineJiffies();
  let rssPeak = before.rssBytes;
  const sampler = setInterval(() => { void usageOf(child).then((u) => { rssPeak = Math.max(rssPeak, u.rssBytes); }); }, 1000);
  const began = performance.now();
  const times = await Promise.all(vms.map(async (vm) => {
    const t0 = performance.now();
    const request = ValidatedRequest.from({ vm: vm.uuid, source: vm.host, admittedBy: 'bench/scale', requestedBy: 'bench/scale' });
    const handle = await client.startMigration(request, vm.uuid);
    const outcome = await client.result(handle.workflowId).catch((err: Error) => ({ outcome: `error: ${err.message}` }));
    return { vm, ms: performance.now() - t0, outcome: outcome.outcome, workflowId: handle.workflowId };
  }));
  const wallMs = performance.now() - began;
  clearInterval(sampler);
  const after = await usageOf(child);
  const benchCpu = process.cpuUsage(benchBefore);
  const machineAfter = machineJiffies();
  rssPeak = Math.max(rssPeak, after.rssBytes);
  const completed = times.filter((t) => t.outcome === 'completed');
  const failures = times.filter((t) => t.outcome !== 'completed');
  if (failures.length > 0) console.error(`  ${failures.length} did not complete, e.g. ${failures[0]!.workflowId}: ${failures[0]!.outcome}`);
  const sorted = completed.map((t) => t.ms).sort((a, b) => a - b);
  const ideals = vms.map((vm) => idealMs(vm, spec)).sort((a, b) => a - b);
  const slowdowns = completed.map((t) => t.ms / idealMs(t.vm, spec)).sort((a, b) => a - b);
  // Histories: every one up to the sample size, else an even spread of them.
  const step = Math.max(1, Math.ceil(times.length / historySample));
  const read = await Promise.all(times.filter((_, i) => i % step === 0).map((t) => historyOf(client, t.workflowId)));
  const cpuMicros = after.userMicros + after.systemMicros - before.userMicros - before.systemMicros;
  return {
    n: vms.length, wallMs, completed: completed.length, failed: failures.length,
    perSecond: completed.length / (wallMs / 1000),
    p50Ms: quantile(sorted, 0.5), p99Ms: quantile(sorted, 0.99),
    idealP50Ms: quantile(ideals, 0.5), idealP99Ms: quantile(ideals, 0.99),
    slowdownP50: quantile(slowdowns, 0.5),
    rssPeakMiB: rssPeak / MiB, cpuSeconds: cpuMicros / 1e6, cpuPctOfOneCore: (cpuMicros / 1000 / wallMs) * 100,
    historyEventsMean: read.reduce((a, r) => a + r.events, 0) / read.length,
    historyEventsMax: Math.max(...read.map((r) => r.events)),
    historiesRead: read.length,
    runsMax: Math.max(...read.map((r) => r.runs)),
    benchCpuSeconds: (benchCpu.user + benchCpu.system) / 1e6,
    machineBusyPct: ((machineAfter.busy - machineBefore.busy) / Math.max(1, machineAfter.total - machineBefore.total)) * 100,
  };
}

function interleavedByHost(vms: SimVmSpec[]): SimVmSpec[] {
  const rank = new Map<string, number>();
  const keyed = vms.map((vm) => {
    const k = rank.get(vm.host) ?? 0;
    rank.set(vm.host, k + 1);
    return { vm, k };
  });
  return keyed.sort((a, b) => a.k - b.k || a.vm.host.localeCompare(b.vm.host)).map((x) => x.vm);
}

async function main(): Promise<void> {
  const o = new Command()
    .option('--counts <list>', 'concurrent migrations per round', '100,300')
    .option('--speed <x>', 'simulated time runs x times faster than real time', '1')
    .option('--history-sample <n>', 'read at most this many histories per round', '300')
    .option('--max-cached-workflows <n>')
    .option('--max-concurrent-workflow-tasks <n>')
    .option('--max-concurrent-activities <n>')
    .option('--out <file>', 'also write the report here')
    .parse(process.argv)
    .opts<Record<string, string | undefined>>();
  const counts = o.counts!.split(',').map((c) => Number(c.trim()));
  if (counts.some((c) => !Number.isInteger(c) || c < 1)) throw new Error(`--counts: '${o.counts}' is not a list of positive integers`);
  const total = counts.reduce((a, b) => a + b, 0);
  const spec = SimFleetSpecSchema.parse({ hosts: HOSTS, vmsPerHost: Math.ceil(total / HOSTS), speed: Number(o.speed), seed: 12 });
  const num = (k: string) => (o[k] === undefined ? undefined : Number(o[k]));
  const tuning = Object.fromEntries(Object.entries({
    maxCachedWorkflows: num('maxCachedWorkflows'),
    maxConcurrentWorkflowTaskExecutions: num('maxConcurrentWorkflowTasks'),
    maxConcurrentActivityTaskExecutions: num('maxConcurrentActivities'),
  }).filter(([, v]) => v !== undefined));

  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: temporalExecutable(), ip: '127.0.0.1', searchAttributes: [...ferrySearchAttributes] },
  });
  const address = env.connection.options.address;
  const taskQueue = `scale-${randomUUID()}`;
  const child = fork(path.join(__dirname, 'worker-process.ts'), [JSON.stringify({ address, namespace: 'default', taskQueue, spec, tuning })], {
    execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const lines: string[] = [];
  const say = (line: string) => { lines.push(line); console.log(line); };
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`the sim worker exited (${code}) before it was ready`)));
    });
    const client = await FerryClient.connect(loadClientConfig(TASK_QUEUE, { TEMPORAL_ADDRESS: address, FERRY_TASK_QUEUE: taskQueue }));
    // Interleaved by host: each round's VMs are spread over all the sources.
    const vms = interleavedByHost(fleetOf(spec).vms);
    const rounds: Round[] = [];
    let next = 0;
    say(`bench/scale ${new Date().toISOString()}: ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; ` +
      `fleet ${spec.hosts} hosts x ${spec.vmsPerHost} VMs (${spec.memoryMiB.join('/')} MiB, dirty ${spec.dirtyMiBps.join('-')} MiB/s, link ${spec.linkMiBps} MiB/s), speed x${spec.speed}; tuning ${JSON.stringify(tuning)}`);
    for (const n of counts) {
      const batch = vms.slice(next, next + n);
      next += n;
      const r = await runRound(client, child, batch, spec, Number(o.historySample));
      rounds.push(r);
      console.error(`  N=${n}: ${r.completed} completed in ${(r.wallMs / 1000).toFixed(1)} s`);
    }
    await client.close();
    const base = rounds[0]!;
    const growth = (r: Round) => ({
      n: r.n / base.n, p50: r.p50Ms / base.p50Ms, p99: r.p99Ms / base.p99Ms, rss: r.rssPeakMiB / base.rssPeakMiB,
      cpu: r.cpuSeconds / base.cpuSeconds, events: r.historyEventsMean / base.historyEventsMean,
    });
    say('');
    say('|     N | done | wall s | done/s | p50 s | p99 s | ideal p50 s | ideal p99 s | p50 / ideal | RSS peak MiB | CPU s | CPU % of 1 core | bench CPU s | machine busy % | events/migration mean (max, runs) | growth from first N: p50, p99, RSS, CPU, events |');
    say('|------:|-----:|-------:|-------:|------:|------:|------------:|------------:|------------:|-------------:|------:|----------------:|------:|------:|------------------|------------------|');
    for (const r of rounds) {
      const g = growth(r);
      say(`| ${String(r.n).padStart(5)} | ${r.completed} | ${(r.wallMs / 1000).toFixed(1)} | ${r.perSecond.toFixed(2)} | ${(r.p50Ms / 1000).toFixed(1)} | ${(r.p99Ms / 1000).toFixed(1)} | ` +
        `${(r.idealP50Ms / 1000).toFixed(1)} | ${(r.idealP99Ms / 1000).toFixed(1)} | ${r.slowdownP50.toFixed(1)}x | ${r.rssPeakMiB.toFixed(0)} | ${r.cpuSeconds.toFixed(1)} | ` +
        `${r.cpuPctOfOneCore.toFixed(0)} | ${r.benchCpuSeconds.toFixed(1)} | ${r.machineBusyPct.toFixed(0)} | ${r.historyEventsMean.toFixed(0)} (${r.historyEventsMax}, ${r.runsMax}; ${r.historiesRead} read) | ` +
        `x${g.n.toFixed(0)} N: ${g.p50.toFixed(2)}, ${g.p99.toFixed(2)}, ${g.rss.toFixed(2)}, ${g.cpu.toFixed(2)}, ${g.events.toFixed(2)} |`);
    }
    say(JSON.stringify({ bench: 'scale', at: new Date().toISOString(), cores: os.cpus().length, spec, tuning, rounds, growth: rounds.map(growth) }));
    if (o.out) fs.writeFileSync(o.out, `${lines.join('\n')}\n`);
  } finally {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.send({ kind: 'stop' });
      const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(kill);
    }
    await env.teardown();
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`bench/scale: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
