/**
 * bench/policy: how well each anchor's convergence policy moves the same guests over the same
 * capped link, side by side in one run, against ferry's default (through its workflow).
 *
 *   node bin/ferry lab up --hosts 3 --accel tcg
 *   npx tsx bench/policy/run.ts                       # every guest x every strategy, 3 runs each
 *   npx tsx bench/policy/run.ts --guests above,hot16 --strategies ferry,postcopy-at-once --runs 3
 *   npx tsx bench/policy/run.ts --guests hot16 --qemu lab,debian12     # with and without post-copy preemption
 *   npx tsx bench/policy/run.ts --strategies ferry,ferry-auto --no-forecast   # without ferry's forecast before each move
 *
 * Runs are interleaved (run 1 of every cell, then run 2, ...) so that the machine's noise spreads
 * over all strategies alike. The link is measured by a raw transfer at the start and at the end.
 * Before each move, ferry's forecast of it (unless --no-forecast) predicts its total time, so that
 * the report sets predicted against measured for every cell.
 * Prints the tables, then one JSON line; --out writes every run as it ends.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { setLinkCap } from '../../lab/network';
import { requireLabState } from '../../lab/state';
import { itClient, startWorkerProcess, type WorkerProcess } from '../../test/integration/support/lab-processes';
import type { FerryClient } from '../../client/ferry-client';
import { labInventory } from '../../lab/inventory';
import { labDir } from '../../lab/paths';
import { WORKFLOW_STRATEGIES, runCell, type FerryStrategy, type RunMetrics } from './cell';
import { installLegacyQemu } from '../../lab/legacy-qemu';
import { GUEST_MEMORY_MIB, GUESTS, guestById, onLegacyQemu, scaledTo } from './guests';
import { measureLinkBps } from './link';
import { formatForecastTable, formatTable, summarizeCells } from './report';
import { RAW_STRATEGIES, type Strategy } from './strategies';

const BENCH_TASK_QUEUE = 'ferry-bench';
const STRATEGY_IDS = [...RAW_STRATEGIES.map((s) => s.id), ...WORKFLOW_STRATEGIES];

function pickStrategies(list: string): Array<Strategy | FerryStrategy> {
  return list.split(',').map((id) => {
    const ferry = WORKFLOW_STRATEGIES.find((x) => x === id);
    if (ferry) return ferry;
    const s = RAW_STRATEGIES.find((x) => x.id === id);
    if (!s) throw new Error(`--strategies: unknown strategy '${id}'; known: ${STRATEGY_IDS.join(', ')}`);
    return s;
  });
}

async function main(): Promise<void> {
  const o = new Command()
    .option('--guests <ids>', `comma-separated: ${GUESTS.map((g) => g.id).join(', ')}`, GUESTS.map((g) => g.id).join(','))
    .option('--strategies <ids>', `comma-separated: ${STRATEGY_IDS.join(', ')}`, STRATEGY_IDS.join(','))
    .option('--runs <n>', 'runs per cell', '3')
    .option('--link-mbps <n>', 'link cap on the source, Mbit/s', '400')
    .option('--cap-factor <n>', 'a run still going after this many times the physical limit is aborted and reported as capped', '20')
    .option('--from <host>', 'source host', 'host-a')
    .option('--to <host>', 'destination host', 'host-b')
    .option('--qemu <list>', "comma-separated: lab (the hosts' QEMU 10, post-copy preemption), debian12 (Debian 12's QEMU 7.2 under the same libvirt, none)", 'lab')
    .option('--out <file>', 'write the runs as JSON (rewritten after every run)')
    .option('--memory-mib <n>', `every guest's RAM, MiB (working set and drift scaled alike)`, String(GUEST_MEMORY_MIB))
    .option('--no-forecast', "do not ask ferry's forecast before each move (it samples the guest's dirty rate for ~3 s, outside the measured time)")
    .parse()
    .opts<{ guests: string; strategies: string; qemu: string; runs: string; linkMbps: string; capFactor: string; from: string; to: string; out?: string; forecast: boolean; memoryMib: string }>();

  const qemus = o.qemu.split(',');
  for (const q of qemus) if (q !== 'lab' && q !== 'debian12') throw new Error(`--qemu: unknown '${q}'; known: lab, debian12`);
  const legacy = qemus.includes('debian12') ? await installLegacyQemu() : null;
  const memoryMiB = Number(o.memoryMib);
  if (!Number.isInteger(memoryMiB) || memoryMiB < 64 || memoryMiB > 4096) throw new Error(`--memory-mib must be a whole number of MiB from 64 to 4096, got '${o.memoryMib}'`);
  const guests = o.guests.split(',').map(guestById).map((g) => scaledTo(g, memoryMiB)).flatMap((g) => [
    ...(qemus.includes('lab') ? [g] : []),
    ...(legacy ? [onLegacyQemu(g, legacy)] : []),
  ]);
  const strategies = pickStrategies(o.strategies);
  const runs = Number(o.runs);
  const linkMbps = Number(o.linkMbps);
  const capFactor = Number(o.capFactor);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a whole number >= 1, got '${o.runs}'`);
  if (!(linkMbps > 0)) throw new Error(`--link-mbps must be a positive number, got '${o.linkMbps}'`);
  if (!(capFactor >= 1)) throw new Error(`--cap-factor must be at least 1, got '${o.capFactor}'`);
  const state = requireLabState();
  const dest = state.hosts.find((h) => h.name === o.to);
  if (!state.hosts.some((h) => h.name === o.from) || !dest || o.from === o.to) {
    throw new Error(`--from and --to must be two different lab hosts (${state.hosts.map((h) => h.name).join(', ')})`);
  }
  const memoryBytes = Math.max(...guests.map((g) => g.memoryMiB)) * 1024 * 1024;

  let worker: WorkerProcess | undefined;
  let client: FerryClient | undefined;
  const all: RunMetrics[] = [];
  const startedAt = new Date().toISOString();
  await setLinkCap(o.from, linkMbps);
  try {
    const bwStart = await measureLinkBps(o.from, dest, memoryBytes);
    const physicalLimitMs = (memoryBytes / bwStart) * 1000;
    const capMs = Math.round(physicalLimitMs * capFactor);
    console.log(`link ${o.from} -> ${o.to} capped at ${linkMbps} Mbit/s: ${(bwStart / 1048576).toFixed(1)} MiB/s measured; physical limit ${(physicalLimitMs / 1000).toFixed(2)} s; cap ${(capMs / 1000).toFixed(1)} s`);
    // The worker runs ferry's strategies and the forecasts. Its inventory is the lab's with the link
    // speed this run measured (linkMiBps): what an operator's inventory would say of this path, and
    // what strategy auto's forecast reads (the lab's own inventory has none). Nothing else reads it.
    const bandwidthMiBps = Math.round((bwStart / 1048576) * 10) / 10;
    if (strategies.some((s) => typeof s === 'string') || o.forecast) {
      const hostsFile = path.join(labDir(), 'bench-policy-hosts.json');
      fs.writeFileSync(hostsFile, JSON.stringify(labInventory().map((h) => ({ ...h, linkMiBps: bandwidthMiBps })), null, 1));
      worker = await startWorkerProcess('bench-policy', { taskQueue: BENCH_TASK_QUEUE, env: { FERRY_HOSTS_FILE: hostsFile } });
      client = await itClient(BENCH_TASK_QUEUE);
    }
    for (let run = 1; run <= runs; run++) {
      for (const guest of guests) {
        for (const strategy of strategies) {
          const m = await runCell(guest, strategy, run, {
            source: o.from, destination: o.to, capMs, ferry: client ? { client } : null,
            forecast: client && o.forecast ? { client, bandwidthMiBps } : null,
          });
          all.push(m);
          const f = m.forecast;
          const predicted = !f ? '' : f.strategy === null ? `; forecast: none (${f.reason})`
            : `; forecast ${f.strategy}: ${f.predictedTotalMs !== null ? `${(f.predictedTotalMs / 1000).toFixed(2)} s` : 'not done in the budget'} (dirty ${((f.dirtyBps ?? 0) / 1048576).toFixed(1)} MiB/s${f.workingSetBytes ? ` over ${(f.workingSetBytes / 1048576).toFixed(0)} MiB` : ''}; fixed ${f.fixedCostsMs != null ? `${(f.fixedCostsMs / 1000).toFixed(2)} s ${f.fixedCostsSource}` : '-'}; ${f.dirtyEstimate ?? ''}; forecast took ${(f.tookMs / 1000).toFixed(1)} s)`;
          const auto = m.auto ? `; the workflow picked ${m.auto.pick ?? 'nothing'}` : '';
          console.log(`run ${run} ${m.guest} ${m.strategy}: ${m.outcome} ${(m.totalMs / 1000).toFixed(2)} s, downtime ${m.downtimeMs ?? '-'} ms, stall ${m.guestStallMs ?? '-'} ms, ${m.mode}${m.why ? `, ${m.why}` : ''}${predicted}${auto}`);
          if (o.out) {
            fs.mkdirSync(path.dirname(path.resolve(o.out)), { recursive: true });
            fs.writeFileSync(o.out, JSON.stringify({ startedAt, linkMbps, bandwidthBps: bwStart, physicalLimitMs, capMs, runs: all }, null, 1));
          }
        }
      }
    }
    const bwEnd = await measureLinkBps(o.from, dest, memoryBytes);
    const bandwidthBps = (bwStart + bwEnd) / 2;
    const limitMs = (memoryBytes / bandwidthBps) * 1000;
    const cells = summarizeCells(all, limitMs, capMs);
    console.log('');
    console.log(`link measured ${(bwStart / 1048576).toFixed(1)} MiB/s at the start, ${(bwEnd / 1048576).toFixed(1)} at the end`);
    console.log(formatTable(cells, { physicalLimitMs: limitMs, bandwidthMiBps: bandwidthBps / 1048576, capMs }));
    if (o.forecast) {
      console.log('');
      console.log(formatForecastTable(cells, { capMs, bandwidthMiBps }));
    }
    const result = { bench: 'policy', startedAt, endedAt: new Date().toISOString(), linkMbps, bandwidthBps, physicalLimitMs: limitMs, capMs, runsPerCell: runs, cells };
    if (o.out) fs.writeFileSync(o.out, JSON.stringify({ ...result, runs: all }, null, 1));
    console.log(JSON.stringify(result));
  } finally {
    await client?.close().catch(() => undefined);
    await worker?.kill().catch(() => undefined);
    await setLinkCap(o.from, null).catch(() => undefined);
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`bench/policy: ${err.message}`);
    process.exit(1);
  },
);
