import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostConnections } from '../../activities/connections';
import type { ActivityDeps, MigrationsVisibility, WatchMode, WatchRoundReport } from '../../activities/deps';
import { Inventory } from '../../activities/hosts';
import { rpcCallsSince, type RpcCallCounts } from '../../activities/libvirt';
import type { PlacementClient } from '../../activities/placement';
import { watchActivities } from '../../activities/watch';
import { labInventory } from '../../lab/inventory';
import { hostsStatus } from '../../lab/lab';
import { rawMigrate } from '../../lab/raw-migration';
import { readLabState, type LabState } from '../../lab/state';
import { createLabVm, deleteLabVm, requireLabVm } from '../../lab/vms';
import type { MigrationSample, WatchInput } from '../../model/activity-contract';
import { ensureTestLab } from './lab';

/**
 * The watch on a real migration: a guest rewriting a working set faster than the migration's
 * bandwidth cap lets it converge, so pre-copy passes keep coming (one every ~2 s) until the test
 * aborts the job. The same migration is watched by rounds in events mode, then in poll mode.
 */
const VM = 'watch-it';
const ROUNDS_PER_MODE = 6;
let lab: LabState;

/** The running lab as it is; brought up only when there is none (a file run on its own). */
async function runningLab(): Promise<LabState> {
  const state = readLabState();
  if (state && state.hosts.length >= 2 && (await hostsStatus(state)).every((h) => h.up)) return state;
  return ensureTestLab();
}

beforeAll(async () => {
  lab = await runningLab();
  await deleteLabVm(VM);
});
afterAll(async () => {
  await deleteLabVm(VM);
});

interface Round {
  mode: WatchMode;
  sample: MigrationSample;
  newIteration: boolean;
  source: number;
  destination: number;
  report: WatchRoundReport;
}

/** The calls of a round, without event registration (once per connection, not per round: the first events round does it). */
const readingCalls = (c: RpcCallCounts) => c.total - (c.byProcedure.ConnectDomainEventCallbackRegisterAny ?? 0);

describe('the watch on a real migration', () => {
  it('returns at each new iteration with events, and reads the hosts with fewer RPCs per round than polling', async () => {
    const [A, B] = [lab.hosts[0]!.name, lab.hosts[1]!.name];
    await createLabVm({ name: VM, host: A, memoryMiB: 128, wssMiB: 16, rateMiBps: 40 });
    const vm = requireLabVm(VM);
    const inventory = new Inventory(labInventory());
    const connections = new HostConnections(inventory);
    const reports: WatchRoundReport[] = [];
    const depsFor = (mode: WatchMode): ActivityDeps => ({
      inventory, connections, placement: {} as PlacementClient, visibility: {} as MigrationsVisibility, watch: { mode, onRound: (r) => reports.push(r) },
    });
    const watchers = { events: watchActivities(depsFor('events')), poll: watchActivities(depsFor('poll')) };
    const env = new MockActivityEnvironment();
    const rounds: Round[] = [];
    let failure: unknown;
    let watched: Promise<void> = Promise.resolve();
    try {
      const migration = await rawMigrate({
        vm: VM,
        to: B,
        bandwidthMiBps: 8,
        onJobRunning: ({ abort }) => {
          watched = (async () => {
            const [src, dst] = await Promise.all([connections.get(A), connections.get(B)]);
            let lastIteration: number | null = null;
            let lastMode: WatchInput['lastMode'] = 'setup';
            for (const mode of ['events', 'poll'] as const) {
              for (let i = 0; i < ROUNDS_PER_MODE; i++) {
                const input: WatchInput = { vm: { name: VM, uuid: vm.uuid, memoryMiB: 128, vcpus: 1 }, source: A, destination: B, maxWaitMs: 2000, lastIteration, lastMode };
                const s0 = src.rpcCalls();
                const d0 = dst.rpcCalls();
                const sample: MigrationSample = await env.run(watchers[mode].watchMigration, input);
                rounds.push({
                  mode,
                  sample,
                  newIteration: sample.iteration !== null && sample.iteration !== lastIteration,
                  source: readingCalls(rpcCallsSince(s0, src.rpcCalls())),
                  destination: readingCalls(rpcCallsSince(d0, dst.rpcCalls())),
                  report: reports.at(-1)!,
                });
                if (sample.job === 'ended') throw new Error(`the migration ended during round ${rounds.length}: it should have kept running`);
                lastIteration = sample.iteration ?? lastIteration;
                lastMode = sample.mode;
              }
            }
          })().catch((err) => {
            failure = err;
          }).finally(() => abort().catch(() => undefined));
        },
      });
      await watched;
      if (failure) throw failure;
      expect(migration.outcome).toBe('failed'); // aborted by the test, as intended
    } finally {
      await connections.closeAll();
    }

    const events = rounds.filter((r) => r.mode === 'events');
    const poll = rounds.filter((r) => r.mode === 'poll');
    expect(events).toHaveLength(ROUNDS_PER_MODE);
    expect(poll).toHaveLength(ROUNDS_PER_MODE);

    // Events mode listened all along and returned at every new iteration, skipping none.
    expect(events.every((r) => !r.report.polledForLackOfEvents)).toBe(true);
    const returned = events.filter((r) => r.newIteration).map((r) => r.sample.iteration!);
    expect(returned.length).toBeGreaterThanOrEqual(2);
    expect(returned).toEqual(returned.map((_, i) => returned[0]! + i));
    // ...woken by the migration-iteration event, not by a poll or the deadline.
    const wokenByIteration = events.filter((r) => r.newIteration && r.report.looks.at(-1) === 'event');
    expect(wokenByIteration.length).toBeGreaterThanOrEqual(1);
    for (const r of wokenByIteration) expect(r.report.events.some((e) => e.startsWith('source:migration-iteration'))).toBe(true);
    // Never more than two readings of both hosts in a round (start, and at the event or the deadline).
    expect(events.every((r) => r.report.observations <= 2 && r.report.looks.every((l) => l === 'event' || l === 'deadline'))).toBe(true);

    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const perRound = {
      events: { source: mean(events.map((r) => r.source)), destination: mean(events.map((r) => r.destination)) },
      poll: { source: mean(poll.map((r) => r.source)), destination: mean(poll.map((r) => r.destination)) },
    };
    console.log('RPCs per watch round on a real migration', JSON.stringify(perRound));
    expect(perRound.events.source).toBeLessThan(perRound.poll.source);
    expect(perRound.events.destination).toBeLessThan(perRound.poll.destination);
  }, 180_000);
});
