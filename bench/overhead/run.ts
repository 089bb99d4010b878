/**
 * bench/overhead: what orchestration costs. The same idle guest moved, as whole CLI processes,
 * interleaved round after round:
 *   - through ferry: `ferry migrate <vm> --to <host>` (the LiveMigration workflow; the first move of
 *     a VM locates it through a worker first, later ones start under the UUID Temporal recorded);
 *   - raw: `ferry lab migrate <vm> --to <host>` (ferry's libvirt client, one p2p call, no workflow);
 *   - `virsh migrate --live --p2p --persistent --undefinesource` against the source daemon.
 * Each way has its own VM of the same shape (a raw move does not move the VM's Placement
 * allocation, so the raw VMs must not be the one ferry moves). Prints the medians, ferry's added
 * seconds and ratio to each, and ferry's time split by workflow step (from its history).
 *
 *   node bin/ferry lab up --hosts 3 --accel tcg
 *   npx tsx bench/overhead/run.ts --runs 7
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Command } from 'commander';
import { hostPeerUri, hostUri } from '../../lab/hosts';
import { repoRoot } from '../../lab/paths';
import { requireLabState } from '../../lab/state';
import { createLabVm, deleteLabVm, locateVm } from '../../lab/vms';
import { itClient, startWorkerProcess, type WorkerProcess } from '../../test/integration/support/lab-processes';
import type { FerryClient } from '../../client/ferry-client';
import { summarize } from '../stats';
import { workflowTimes } from './history';
import { STEPS, splitBySteps, type Step } from './steps';

const BENCH_TASK_QUEUE = 'ferry-bench';
const WAYS = ['ferry', 'raw-client', 'virsh'] as const;
type Way = (typeof WAYS)[number];

interface ProcessRun {
  ms: number;
  code: number | null;
  /** stdout and stderr as they came. */
  out: string;
  stdout: string;
  /** Wall-clock spawn and exit (epoch ms), to compare with the workflow's history (same machine). */
  spawnedAtMs: number;
  exitedAtMs: number;
}

function runProcess(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<ProcessRun> {
  return new Promise((resolve) => {
    const spawnedAtMs = Date.now();
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stdout = '';
    child.stdout.on('data', (b) => ((out += b), (stdout += b)));
    child.stderr.on('data', (b) => (out += b));
    child.on('close', (code) => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, code, out, stdout, spawnedAtMs, exitedAtMs: Date.now() }));
  });
}

/** How `ferry migrate --json` found the workflow id (client/migration-start.ts): uuid, known or located. */
function startedVia(stdout: string): string {
  try {
    return (JSON.parse(stdout) as { startedVia?: string }).startedVia ?? '?';
  } catch {
    return '?';
  }
}

async function main(): Promise<void> {
  const o = new Command()
    .option('--runs <n>', 'rounds (each moves every way once)', '5')
    .option('--mem <MiB>', 'guest memory', '256')
    .option('--hosts <a,b>', 'the two hosts the guests move between', 'host-a,host-b')
    .parse()
    .opts<{ runs: string; mem: string; hosts: string }>();
  const runs = Number(o.runs);
  const memoryMiB = Number(o.mem);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a whole number >= 1, got '${o.runs}'`);
  const [hostA, hostB] = o.hosts.split(',') as [string, string];
  const state = requireLabState();
  for (const h of [hostA, hostB]) if (!state.hosts.some((x) => x.name === h)) throw new Error(`--hosts: '${h}' is not a lab host`);

  const vmOf = (w: Way) => `bo-${w}`;
  let worker: WorkerProcess | undefined;
  let client: FerryClient | undefined;
  const times: Record<Way, number[]> = { ferry: [], 'raw-client': [], virsh: [] };
  const steps: Array<Record<Step, number>> = [];
  const workflowMs: number[] = [];
  /** Outside the workflow: from the CLI's spawn to the workflow's start, and from its close to the CLI's exit. */
  const beforeStartMs: number[] = [];
  const afterCloseMs: number[] = [];
  const via: string[] = [];
  /** The workflow's first task: from its start to a worker's pick-up, and its run (the first activation). */
  const firstPickupMs: number[] = [];
  const firstRunMs: number[] = [];
  try {
    for (const w of WAYS) await createLabVm({ name: vmOf(w), host: hostA, memoryMiB, rateMiBps: 0 });
    worker = await startWorkerProcess('bench-overhead', { taskQueue: BENCH_TASK_QUEUE });
    client = await itClient(BENCH_TASK_QUEUE);
    const env = { ...process.env, FERRY_TASK_QUEUE: BENCH_TASK_QUEUE };
    const ferryBin = path.join(repoRoot, 'bin', 'ferry');
    for (let round = 1; round <= runs; round++) {
      // Rotate who goes first, so that no way always follows the same neighbour.
      const order = WAYS.map((_, i) => WAYS[(i + round) % WAYS.length]!);
      for (const way of order) {
        const vm = vmOf(way);
        const from = (await locateVm(vm)).host!;
        const to = from === hostA ? hostB : hostA;
        const r = way === 'ferry'
          ? await runProcess(process.execPath, [ferryBin, 'migrate', vm, '--to', to, '--json'], env)
          : way === 'raw-client'
            ? await runProcess(process.execPath, [ferryBin, 'lab', 'migrate', vm, '--to', to], env)
            : await runProcess('virsh', ['-c', hostUri(from), 'migrate', '--live', '--p2p', '--persistent', '--undefinesource', vm, hostPeerUri(to)], env);
        if (r.code !== 0) throw new Error(`${way} ${vm} ${from} -> ${to} exited ${r.code}: ${r.out.slice(-1500)}`);
        times[way].push(r.ms);
        let split = '';
        if (way === 'ferry') {
          const uuid = requireLabState().vms.find((v) => v.name === vm)!.uuid;
          const wt = await workflowTimes(client.handle(`migrate-${uuid}`));
          const s = splitBySteps(wt);
          steps.push(s);
          workflowMs.push(wt.closedMs - wt.startedMs);
          beforeStartMs.push(wt.startedMs - r.spawnedAtMs);
          afterCloseMs.push(r.exitedAtMs - wt.closedMs);
          via.push(startedVia(r.stdout));
          if (wt.firstTask) {
            firstPickupMs.push(wt.firstTask.startedMs - wt.startedMs);
            firstRunMs.push(wt.firstTask.completedMs - wt.firstTask.startedMs);
          }
          split = ` (started via ${via[via.length - 1]} after ${((wt.startedMs - r.spawnedAtMs) / 1000).toFixed(2)} s; ` +
            `workflow ${((wt.closedMs - wt.startedMs) / 1000).toFixed(2)} s: ${STEPS.map((k) => `${k} ${(s[k] / 1000).toFixed(2)}`).join(', ')}; ` +
            `exit ${((r.exitedAtMs - wt.closedMs) / 1000).toFixed(2)} s after its close)`;
        }
        console.log(`round ${round} ${way.padEnd(10)} ${vm} ${from} -> ${to}: ${(r.ms / 1000).toFixed(2)} s${split}`);
      }
    }
  } finally {
    await client?.close().catch(() => undefined);
    await worker?.kill().catch(() => undefined);
    for (const w of WAYS) await deleteLabVm(vmOf(w)).catch(() => undefined);
  }

  const med = (xs: number[]) => summarize(xs).median;
  const fmt = (xs: number[]) => {
    const s = summarize(xs);
    return `${(s.median / 1000).toFixed(2)} s [${(s.min / 1000).toFixed(2)}-${(s.max / 1000).toFixed(2)}]`;
  };
  console.log('');
  console.log(`idle ${memoryMiB} MiB guest, ${runs} rounds, whole CLI processes, interleaved; median [min-max]`);
  for (const w of WAYS) console.log(`  ${w.padEnd(11)} ${fmt(times[w])}`);
  const added = { 'raw-client': med(times.ferry) - med(times['raw-client']), virsh: med(times.ferry) - med(times.virsh) };
  console.log(`  ferry adds ${(added['raw-client'] / 1000).toFixed(2)} s to the raw client (x${(med(times.ferry) / med(times['raw-client'])).toFixed(2)}), ${(added.virsh / 1000).toFixed(2)} s to virsh (x${(med(times.ferry) / med(times.virsh)).toFixed(2)})`);
  console.log(`  ferry's workflow ${fmt(workflowMs)}; by step (median): ${STEPS.map((k) => `${k} ${(med(steps.map((s) => s[k])) / 1000).toFixed(2)} s`).join(', ')}`);
  console.log(`  outside the workflow (CLI start, locate, result): ${((med(times.ferry) - med(workflowMs)) / 1000).toFixed(2)} s: ` +
    `before its start ${(med(beforeStartMs) / 1000).toFixed(2)} s (process, Temporal client, worker check, the VM's id: ${countOf(via)}), ` +
    `after its close ${(med(afterCloseMs) / 1000).toFixed(2)} s (result, exit)`);
  console.log(`  the workflow's first task (in pre-checks): picked up ${(med(firstPickupMs) / 1000).toFixed(3)} s after the start, ran ${(med(firstRunMs) / 1000).toFixed(3)} s`);
  const labMeter = med(steps.map((s) => s['lab-meter']));
  console.log(`  without the lab's guest meter (production has none): ferry adds ${((added['raw-client'] - labMeter) / 1000).toFixed(2)} s to the raw client`);
  console.log(JSON.stringify({
    bench: 'overhead', at: new Date().toISOString(), memoryMiB, runs,
    medianMs: Object.fromEntries(WAYS.map((w) => [w, med(times[w])])),
    addedMs: added,
    ratio: { 'raw-client': med(times.ferry) / med(times['raw-client']), virsh: med(times.ferry) / med(times.virsh) },
    workflowMedianMs: med(workflowMs),
    stepsMedianMs: Object.fromEntries(STEPS.map((k) => [k, med(steps.map((s) => s[k]))])),
    outsideMedianMs: { beforeStart: med(beforeStartMs), afterClose: med(afterCloseMs) },
    firstTaskMedianMs: { pickup: med(firstPickupMs), run: med(firstRunMs) },
    startedVia: via,
    samplesMs: times,
  }));
}

/** "known 5, located 1". */
function countOf(xs: string[]): string {
  const n = new Map<string, number>();
  for (const x of xs) n.set(x, (n.get(x) ?? 0) + 1);
  return [...n].map(([k, c]) => `${k} ${c}`).join(', ');
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`bench/overhead: ${err.message}`);
    process.exit(1);
  },
);
