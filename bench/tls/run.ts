/**
 * bench/tls: what encrypting costs. The same guest moved back and forth between two hosts through
 * ferry's libvirt client (one peer-to-peer call, no workflow), interleaved round after round:
 *   - plain: peer link qemu+tcp, the stream in the clear;
 *   - tls:   peer link qemu+tls and the stream encrypted (VIR_MIGRATE_TLS), with the lab's
 *            certificates (lab/tls.ts).
 * Two guests: one idle (the fixed cost: handshakes, certificate checks) and one dirtying memory
 * (the cost per byte, where the stream's CPU work shows). Prints the medians of total time,
 * downtime and stream throughput per way and guest, and tls/plain ratios.
 *
 *   node bin/ferry lab up --hosts 3 --accel tcg
 *   npx tsx bench/tls/run.ts --runs 5
 */
import { Command } from 'commander';
import { rawMigrate, type RawMigrationResult } from '../../lab/raw-migration';
import { requireLabState } from '../../lab/state';
import { createLabVm, deleteLabVm, locateVm } from '../../lab/vms';
import { summarize } from '../stats';

const WAYS = ['plain', 'tls'] as const;
type Way = (typeof WAYS)[number];
const GUESTS = [
  { name: 'bt-idle', memoryMiB: 256, rateMiBps: 0 as const },
  { name: 'bt-dirty', memoryMiB: 512, rateMiBps: 64, wssMiB: 256 },
];

interface Row { totalMs: number; downtimeMs: number; mibps: number }

function rowOf(r: RawMigrationResult): Row {
  if (r.outcome !== 'completed') throw new Error(`${r.vm} ${r.source}->${r.destination} failed: ${r.error}`);
  const bytes = r.bytes ?? 0;
  return { totalMs: r.totalMs, downtimeMs: r.downtimeMs ?? NaN, mibps: bytes / (1024 * 1024) / (r.totalMs / 1000) };
}

async function main(): Promise<void> {
  const o = new Command()
    .option('--runs <n>', 'rounds (each moves every guest once each way)', '5')
    .option('--hosts <a,b>', 'the two hosts the guests move between', 'host-a,host-b')
    .parse()
    .opts<{ runs: string; hosts: string }>();
  const runs = Number(o.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a whole number >= 1, got '${o.runs}'`);
  const [hostA, hostB] = o.hosts.split(',') as [string, string];
  const state = requireLabState();
  for (const h of [hostA, hostB]) if (!state.hosts.some((x) => x.name === h)) throw new Error(`--hosts: '${h}' is not a lab host`);

  const rows: Record<string, Row[]> = {};
  try {
    for (const g of GUESTS) {
      await deleteLabVm(g.name);
      await createLabVm({ ...g, host: hostA });
    }
    for (let round = 1; round <= runs; round += 1) {
      // Alternate which way goes first, so neither always meets a warmer or colder machine.
      const order: Way[] = round % 2 === 1 ? ['plain', 'tls'] : ['tls', 'plain'];
      for (const g of GUESTS) {
        for (const way of order) {
          const here = (await locateVm(g.name)).host!;
          const r = await rawMigrate({ vm: g.name, to: here === hostA ? hostB : hostA, tls: way === 'tls' });
          const row = rowOf(r);
          (rows[`${g.name} ${way}`] ??= []).push(row);
          console.error(`round ${round} ${g.name} ${way}: ${(row.totalMs / 1000).toFixed(2)} s, downtime ${row.downtimeMs} ms, ${row.mibps.toFixed(0)} MiB/s`);
        }
      }
    }
  } finally {
    for (const g of GUESTS) await deleteLabVm(g.name).catch(() => undefined);
  }

  const med = (k: string, f: keyof Row) => summarize(rows[k]!.map((r) => r[f]).filter((x) => Number.isFinite(x))).median;
  console.log(`bench/tls: ${runs} rounds, ${new Date().toISOString()}, accel ${state.accel}`);
  console.log('guest      way    total s  downtime ms  MiB/s');
  for (const g of GUESTS) {
    for (const way of WAYS) {
      const k = `${g.name} ${way}`;
      console.log(`${g.name.padEnd(10)} ${way.padEnd(6)} ${(med(k, 'totalMs') / 1000).toFixed(2).padStart(7)}  ${String(Math.round(med(k, 'downtimeMs'))).padStart(11)}  ${med(k, 'mibps').toFixed(0).padStart(5)}`);
    }
    const ratio = (f: keyof Row) => (med(`${g.name} tls`, f) / med(`${g.name} plain`, f)).toFixed(2);
    console.log(`${g.name.padEnd(10)} tls/plain: total x${ratio('totalMs')}, downtime x${ratio('downtimeMs')}, throughput x${ratio('mibps')}`);
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
