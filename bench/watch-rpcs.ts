/**
 * RPCs per watch round, polling (the former watch) vs events (the watch that listens), measured
 * side by side on one running migration: rounds of the two modes interleave, each mode on its own
 * host connections so that the libvirt client's per-procedure counters tell them apart. Each block
 * of four rounds runs two of each mode in a shuffled order (seeded): a strict alternation locks
 * onto the iteration period (the events round always ends at an iteration, so the poll round after
 * it never sees one), which would hide half of each mode's behaviour.
 *
 * The migration is a raw peer-to-peer pre-copy on the lab (lab/raw-migration.ts) of a guest that
 * rewrites a small working set faster than the migration's bandwidth cap allows it to converge:
 * it runs until the bench aborts it, with a new pre-copy pass every couple of seconds after the
 * first. Needs a running lab (it never brings one up); uses the VM watch-bench.
 *
 *   npx tsx bench/watch-rpcs.ts [--rounds 48] [--seed 1] [--from host-a] [--to host-b]
 *                               [--mem 256] [--wss 32] [--rate 40] [--bandwidth 10]
 *
 * Prints a table, then one JSON line.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { HostConnections } from '../activities/connections';
import type { ActivityDeps, MigrationsVisibility, WatchMode, WatchRoundReport } from '../activities/deps';
import { Inventory } from '../activities/hosts';
import { LibvirtClient, rpcCallsSince, type RpcCallCounts } from '../activities/libvirt';
import type { PlacementClient } from '../activities/placement';
import { watchActivities } from '../activities/watch';
import { findDomain } from '../lab/host-clients';
import { hostUri } from '../lab/hosts';
import { labInventory } from '../lab/inventory';
import { rawMigrate } from '../lab/raw-migration';
import { requireLabState } from '../lab/state';
import { createLabVm, deleteLabVm, requireLabVm } from '../lab/vms';
import type { MigrationSample, WatchInput } from '../model/activity-contract';
import { summarize } from './stats';

const VM = 'watch-bench';
const MAX_WAIT_MS = 2000;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

interface Round {
  mode: WatchMode;
  ms: number;
  source: RpcCallCounts;
  destination: RpcCallCounts;
  /** Returned with an iteration the previous round did not have. */
  newIteration: boolean;
  /** ms from the iteration's event (seen by an independent listener) to the round's return; null when it began before the round. */
  afterIterationMs: number | null;
  ended: boolean;
  report: WatchRoundReport;
}

/** One mode's watch on its own connections (so its RPC counters are its own). */
async function watcher(mode: WatchMode, hosts: [string, string]) {
  const inventory = new Inventory(labInventory());
  const connections = new HostConnections(inventory);
  let last: WatchRoundReport | undefined;
  const deps: ActivityDeps = { inventory, connections, placement: {} as PlacementClient, visibility: {} as MigrationsVisibility, watch: { mode, onRound: (r) => (last = r) } };
  const { watchMigration } = watchActivities(deps);
  const env = new MockActivityEnvironment();
  const [src, dst] = await Promise.all(hosts.map((h) => connections.get(h)));
  const before = [src!.rpcCalls(), dst!.rpcCalls()];
  if (mode === 'events') await Promise.all(hosts.map((h) => connections.eventFeed(h))); // once per connection, not per round
  const setup = { source: rpcCallsSince(before[0]!, src!.rpcCalls()), destination: rpcCallsSince(before[1]!, dst!.rpcCalls()) };
  return {
    setup,
    connections,
    async round(input: WatchInput): Promise<{ sample: MigrationSample; source: RpcCallCounts; destination: RpcCallCounts; report: WatchRoundReport }> {
      const s0 = src!.rpcCalls();
      const d0 = dst!.rpcCalls();
      const sample: MigrationSample = await env.run(watchMigration, input);
      return { sample, source: rpcCallsSince(s0, src!.rpcCalls()), destination: rpcCallsSince(d0, dst!.rpcCalls()), report: last! };
    },
  };
}

async function main(): Promise<void> {
  const state = requireLabState();
  const from = arg('from', state.hosts[0]!.name);
  const to = arg('to', state.hosts[1]!.name);
  const rounds = Number(arg('rounds', '48'));
  const order = interleaving(rounds, Number(arg('seed', '1')));
  const memoryMiB = Number(arg('mem', '256'));
  const wssMiB = Number(arg('wss', '32'));
  const rateMiBps = Number(arg('rate', '40'));
  const bandwidthMiBps = Number(arg('bandwidth', '10'));

  await deleteLabVm(VM);
  await createLabVm({ name: VM, host: from, memoryMiB, rateMiBps, wssMiB });
  const vm = requireLabVm(VM);
  const watchers = { poll: await watcher('poll', [from, to]), events: await watcher('events', [from, to]) };

  // An independent listener says when each iteration began, to time how soon each mode returned.
  const observer = await LibvirtClient.connect({ uri: hostUri(from) });
  const iterationAt = new Map<number, number>();
  const dom = (await findDomain(observer, VM))!.dom;
  await observer.onMigrationIteration((e) => iterationAt.set(e.iteration, Date.now()), dom);

  const results: Round[] = [];
  let benchError: unknown;
  let benchDone: Promise<void> = Promise.resolve();
  try {
    const migration = await rawMigrate({
      vm: VM,
      to,
      bandwidthMiBps,
      pollMs: 1000,
      onJobRunning: ({ abort }) => {
        benchDone = (async () => {
          let lastIteration: number | null = null;
          let lastMode: WatchInput['lastMode'] = 'setup';
          for (let i = 0; i < rounds; i++) {
            const mode = order[i]!;
            const input: WatchInput = {
              vm: { name: VM, uuid: vm.uuid, memoryMiB, vcpus: vm.vcpus },
              source: from,
              destination: to,
              maxWaitMs: MAX_WAIT_MS,
              lastIteration,
              lastMode,
            };
            const t0 = Date.now();
            const r = await watchers[mode].round(input);
            const t1 = Date.now();
            const newIteration = r.sample.iteration !== null && r.sample.iteration !== lastIteration;
            const began = newIteration ? iterationAt.get(r.sample.iteration!) : undefined;
            results.push({
              mode,
              ms: t1 - t0,
              source: r.source,
              destination: r.destination,
              newIteration,
              afterIterationMs: began !== undefined && began >= t0 ? t1 - began : null,
              ended: r.sample.job === 'ended',
              report: r.report,
            });
            process.stderr.write(`round ${i + 1}/${rounds} ${mode.padEnd(6)} ${String(t1 - t0).padStart(5)} ms  iteration ${r.sample.iteration}  src ${r.source.total} dst ${r.destination.total} RPCs  ${r.report.looks.join(',')}\n`);
            if (r.sample.job === 'ended') break;
            lastIteration = r.sample.iteration ?? lastIteration;
            lastMode = r.sample.mode;
          }
        })().catch((err) => {
          benchError = err;
        }).finally(() => abort().catch(() => undefined));
      },
    });
    await benchDone;
    if (benchError) throw benchError;
    process.stderr.write(`migration: ${migration.outcome} (${migration.error ?? 'no error'}), ${migration.iterations.length} iterations seen, ${(migration.totalMs / 1000).toFixed(1)} s\n`);
  } finally {
    await observer.close().catch(() => undefined);
    await watchers.poll.connections.closeAll();
    await watchers.events.connections.closeAll();
    await deleteLabVm(VM);
  }
  if (results.length < 4) throw new Error(`only ${results.length} rounds ran: the migration ended too early`);
  print(results, { from, to, memoryMiB, wssMiB, rateMiBps, bandwidthMiBps, setup: { events: watchers.events.setup } });
}

/** Modes for `rounds` rounds: blocks of [events, events, poll, poll] shuffled by a seeded generator. */
function interleaving(rounds: number, seed: number): WatchMode[] {
  let x = seed >>> 0 || 1;
  const next = () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const out: WatchMode[] = [];
  while (out.length < rounds) {
    const block: WatchMode[] = ['events', 'events', 'poll', 'poll'];
    for (let i = block.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [block[i], block[j]] = [block[j]!, block[i]!];
    }
    out.push(...block);
  }
  return out.slice(0, rounds);
}

function summary(rs: Round[]) {
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  const at = (pred: (r: Round) => boolean) => {
    const sel = rs.filter(pred);
    return { rounds: sel.length, source: mean(sel.map((r) => r.source.total)), destination: mean(sel.map((r) => r.destination.total)) };
  };
  const lat = summarize(rs.map((r) => r.afterIterationMs).filter((x): x is number => x !== null));
  const seconds = rs.reduce((a, r) => a + r.ms, 0) / 1000;
  return {
    rounds: rs.length,
    roundsPerSecond: rs.length / seconds,
    sourceRpcsPerRound: mean(rs.map((r) => r.source.total)),
    destinationRpcsPerRound: mean(rs.map((r) => r.destination.total)),
    readingsPerRound: mean(rs.map((r) => r.report.observations)),
    atNewIteration: at((r) => r.newIteration),
    atMaxWait: at((r) => !r.newIteration && !r.ended),
    returnAfterIterationMs: { n: lat.n, median: lat.median, p95: lat.p95, max: lat.max },
    sourceByProcedure: perRound(rs.map((r) => r.source)),
    destinationByProcedure: perRound(rs.map((r) => r.destination)),
  };
}

function perRound(cs: RpcCallCounts[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of cs) for (const [k, v] of Object.entries(c.byProcedure)) out[k] = (out[k] ?? 0) + v;
  for (const k of Object.keys(out)) out[k] = round2(out[k]! / cs.length);
  return out;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

function print(results: Round[], setup: Record<string, unknown>): void {
  const poll = summary(results.filter((r) => r.mode === 'poll'));
  const events = summary(results.filter((r) => r.mode === 'events'));
  const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  const rows: Array<[string, string, string]> = [
    ['rounds', String(poll.rounds), String(events.rounds)],
    ['rounds per second', f(poll.roundsPerSecond, 2), f(events.roundsPerSecond, 2)],
    ['source RPCs per round', f(poll.sourceRpcsPerRound), f(events.sourceRpcsPerRound)],
    ['destination RPCs per round', f(poll.destinationRpcsPerRound), f(events.destinationRpcsPerRound)],
    ['readings of both hosts per round', f(poll.readingsPerRound, 2), f(events.readingsPerRound, 2)],
    [`  rounds ending at a new iteration`, String(poll.atNewIteration.rounds), String(events.atNewIteration.rounds)],
    [`    source / destination RPCs`, `${f(poll.atNewIteration.source)} / ${f(poll.atNewIteration.destination)}`, `${f(events.atNewIteration.source)} / ${f(events.atNewIteration.destination)}`],
    [`  rounds ending at maxWaitMs (${MAX_WAIT_MS} ms)`, String(poll.atMaxWait.rounds), String(events.atMaxWait.rounds)],
    [`    source / destination RPCs`, `${f(poll.atMaxWait.source)} / ${f(poll.atMaxWait.destination)}`, `${f(events.atMaxWait.source)} / ${f(events.atMaxWait.destination)}`],
    ['return after a new iteration, median ms', f(poll.returnAfterIterationMs.median, 0), f(events.returnAfterIterationMs.median, 0)],
    ['  p95 / max ms', `${f(poll.returnAfterIterationMs.p95, 0)} / ${f(poll.returnAfterIterationMs.max, 0)}`, `${f(events.returnAfterIterationMs.p95, 0)} / ${f(events.returnAfterIterationMs.max, 0)}`],
    ['  (iterations that began during a round)', String(poll.returnAfterIterationMs.n), String(events.returnAfterIterationMs.n)],
  ];
  console.log(`watch rounds on one running migration (${setup.from} -> ${setup.to}, ${setup.memoryMiB} MiB guest rewriting ${setup.wssMiB} MiB at ${setup.rateMiBps} MiB/s, migration capped at ${setup.bandwidthMiBps} MiB/s), modes interleaved`);
  console.log(`${''.padEnd(44)}${'poll'.padStart(14)}${'events'.padStart(14)}`);
  for (const [name, a, b] of rows) console.log(`${name.padEnd(44)}${a.padStart(14)}${b.padStart(14)}`);
  console.log(`source RPCs per round by procedure:       poll ${JSON.stringify(poll.sourceByProcedure)}`);
  console.log(`                                           events ${JSON.stringify(events.sourceByProcedure)}`);
  console.log(`destination RPCs per round by procedure:  poll ${JSON.stringify(poll.destinationByProcedure)}`);
  console.log(`                                           events ${JSON.stringify(events.destinationByProcedure)}`);
  console.log(`events mode, once per host connection (not in the rounds): ${JSON.stringify(setup.setup)}`);
  console.log(`ratio poll / events, RPCs per round: source ${f(poll.sourceRpcsPerRound / events.sourceRpcsPerRound, 2)}x, destination ${f(poll.destinationRpcsPerRound / events.destinationRpcsPerRound, 2)}x`);
  console.log(JSON.stringify({
    bench: 'watch-rpcs',
    migration: { from: setup.from, to: setup.to, memoryMiB: setup.memoryMiB, wssMiB: setup.wssMiB, rateMiBps: setup.rateMiBps, bandwidthMiBps: setup.bandwidthMiBps, maxWaitMs: MAX_WAIT_MS },
    poll,
    events,
    ratio: { source: round2(poll.sourceRpcsPerRound / events.sourceRpcsPerRound), destination: round2(poll.destinationRpcsPerRound / events.destinationRpcsPerRound) },
  }));
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
