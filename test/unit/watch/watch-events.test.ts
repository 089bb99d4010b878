import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, describe, expect, it } from 'vitest';
import type { WatchOptions, WatchRoundReport } from '../../../activities/deps';
import {
  DomainState, JobType, LifecycleEvent, PausedReason, Procedure, RunningReason, StoppedDetail, SuspendedDetail, rpcCallsSince, param,
} from '../../../activities/libvirt';
import { watchActivities } from '../../../activities/watch';
import type { MigrationSample, WatchInput } from '../../../model/activity-contract';
import { waitFor } from '../libvirt/fake-server';
import { OTHER, precopyJob, startPair, watchInput } from './fake-hosts';

type Pair = Awaited<ReturnType<typeof startPair>>;
let pair: Pair | undefined;

afterEach(async () => {
  await pair?.stop();
  pair = undefined;
});

/** A watch round in a mock activity context, with its report. */
async function setup(watch: WatchOptions = {}, pollMs?: number) {
  const reports: WatchRoundReport[] = [];
  pair = await startPair({ safetyPollMs: 60_000, ...watch, onRound: (r) => reports.push(r) }, pollMs);
  const env = new MockActivityEnvironment();
  const { watchMigration } = watchActivities(pair.deps);
  const run = (input: WatchInput = watchInput()): Promise<MigrationSample> => env.run(watchMigration, input);
  return { p: pair, env, reports, run };
}

const stateCalls = (p: Pair) => p.source.count(Procedure.DomainGetState) + p.destination.count(Procedure.DomainGetState);

/** Resolves once the readings so far are done (a reading asks each host for the domain's state once, then its job). */
async function readingsDone(p: Pair, n: number): Promise<void> {
  await waitFor(
    () => stateCalls(p) >= 2 * n && p.source.count(Procedure.DomainGetJobStats) >= p.source.count(Procedure.DomainGetState)
      && p.destination.count(Procedure.DomainGetJobStats) >= p.destination.count(Procedure.DomainGetState),
    2000,
    `${n} reading(s) of both hosts`,
  );
}

describe('the watch listens (events mode, the default)', () => {
  it('returns on a migration-iteration event, after reading both hosts once more', async () => {
    const { p, reports, run } = await setup();
    const round = run();
    await readingsDone(p, 1);
    p.source.job.params = precopyJob(4);
    p.source.sendIteration(4);
    expect(await round).toMatchObject({ job: 'running', mode: 'precopy', iteration: 4, dataTotal: 128 * 1024 * 1024 });
    expect(reports).toEqual([
      expect.objectContaining({ mode: 'events', observations: 2, looks: ['event'], events: ['source:migration-iteration 4'], polledForLackOfEvents: false }),
    ]);
    // Subscribed once per host connection: lifecycle, migration-iteration, job-completed.
    expect(p.source.count(Procedure.ConnectDomainEventCallbackRegisterAny)).toBe(3);
    expect(p.destination.count(Procedure.ConnectDomainEventCallbackRegisterAny)).toBe(3);
  });

  it('returns on job-completed: the job has ended and the VM runs on the destination', async () => {
    const { p, reports, run } = await setup();
    const round = run();
    await readingsDone(p, 1);
    p.source.domain = null; // undefined on the source at the end (UndefineSource)
    p.destination.domain = { state: DomainState.Running, reason: RunningReason.Migrated };
    p.destination.incoming = false;
    p.source.sendJobCompleted([param.ullong('downtime', 120)]);
    const sample = await round;
    expect(sample).toMatchObject({ job: 'ended', source: { reachable: true, domain: 'none' }, destination: { domain: { state: 'running', reason: 'Migrated' } } });
    expect(reports[0]).toMatchObject({ observations: 2, looks: ['event'], events: ['source:job-completed'] });
  });

  it('returns on a lifecycle post-copy event with the mode post-copy', async () => {
    const { p, reports, run } = await setup();
    const round = run();
    await readingsDone(p, 1);
    p.source.domain = { state: DomainState.Paused, reason: PausedReason.Postcopy };
    p.destination.domain = { state: DomainState.Running, reason: RunningReason.Postcopy };
    p.destination.incoming = false; // post-copy: the destination runs the guest and reports no job
    p.source.sendLifecycle(LifecycleEvent.Suspended, SuspendedDetail.Postcopy);
    expect(await round).toMatchObject({ job: 'running', mode: 'postcopy', iteration: 3, postcopyFailed: false });
    expect(reports[0]).toMatchObject({ observations: 2, looks: ['event'], events: ['source:lifecycle Suspended/Postcopy'] });
  });

  it('wakes on the destination\'s lifecycle too: a failed incoming migration ends the job', async () => {
    const { p, reports, run } = await setup();
    const round = run();
    await readingsDone(p, 1);
    p.source.job = { type: JobType.None, params: [] };
    p.destination.domain = null;
    p.destination.sendLifecycle(LifecycleEvent.Stopped, StoppedDetail.Failed);
    expect(await round).toMatchObject({ job: 'ended', destination: { domain: 'none' } });
    expect(reports[0]).toMatchObject({ looks: ['event'], events: ['destination:lifecycle Stopped/Failed'] });
  });

  it('ignores events about other VMs and iterations the workflow already has, and returns at maxWaitMs', async () => {
    const { p, reports, run } = await setup();
    const round = run(watchInput({ maxWaitMs: 1000 }));
    await readingsDone(p, 1);
    p.source.sendIteration(9, OTHER);
    p.source.sendLifecycle(LifecycleEvent.Suspended, SuspendedDetail.Postcopy, OTHER);
    p.destination.sendLifecycle(LifecycleEvent.Stopped, StoppedDetail.Failed, OTHER);
    p.source.sendIteration(3); // lastIteration: nothing new
    expect(await round).toMatchObject({ job: 'running', iteration: 3 });
    expect(reports[0]).toMatchObject({ observations: 2, looks: ['deadline'], events: [] });
    expect(reports[0]!.waitedMs).toBeGreaterThanOrEqual(1000);
  });

  it('starts every round from a reading: a fresh worker re-attaches and returns at once if the decision point already passed', async () => {
    const { p, reports, run } = await setup();
    p.source.job.params = precopyJob(5); // the iteration moved on while no worker watched
    expect(await run(watchInput({ lastIteration: 3 }))).toMatchObject({ iteration: 5 });
    expect(reports[0]).toMatchObject({ observations: 1, looks: [] });
  });

  it('re-subscribes after the connection drops, reads again (events may be lost), then returns on the next event', async () => {
    const { p, reports, run } = await setup();
    const round = run();
    await readingsDone(p, 1);
    const first = p.source.server.last;
    p.source.server.dropAll();
    // The watch reconnects, registers the three callbacks on the new connection and reads again.
    await waitFor(() => p.source.server.connections.length === 2 && p.source.server.last.calls(Procedure.ConnectDomainEventCallbackRegisterAny).length === 3);
    await readingsDone(p, 2);
    expect(p.source.server.last).not.toBe(first);
    p.source.job.params = precopyJob(4);
    p.source.sendIteration(4); // with the callback id of the new registration
    expect(await round).toMatchObject({ iteration: 4 });
    expect(reports[0]).toMatchObject({ observations: 3, looks: ['feed-lost', 'event'], polledForLackOfEvents: false });
    expect(reports[0]!.events).toEqual(['source:migration-iteration 4']);
  });

  it('keeps the subscription with the connection: a replaced connection subscribes again without any watch running', async () => {
    const { p } = await setup();
    const feed = await p.connections.eventFeed('src');
    const heard: string[] = [];
    feed.listen((e) => heard.push(e.kind));
    expect(p.source.count(Procedure.ConnectDomainEventCallbackRegisterAny)).toBe(3);
    p.source.server.dropAll();
    await waitFor(() => heard.includes('feed-lost'));
    expect(feed.lost).toBe(true);
    await p.connections.get('src'); // any activity's next use reconnects, and subscribes again
    await waitFor(() => p.source.server.connections.length === 2 && p.source.server.last.calls(Procedure.ConnectDomainEventCallbackRegisterAny).length === 3);
    const next = await p.connections.eventFeed('src');
    expect(next.lost).toBe(false);
    expect(p.source.count(Procedure.ConnectDomainEventCallbackRegisterAny)).toBe(6); // not twice on the new connection
    const got: string[] = [];
    next.listen((e) => got.push(e.kind));
    p.source.sendIteration(7);
    await waitFor(() => got.includes('migration-iteration'));
  });

  it('falls back to polling job stats when a host refuses event subscription, asking once per connection', async () => {
    const { p, reports, run } = await setup({}, 20);
    p.source.refuseEvents = true;
    const round = run();
    await readingsDone(p, 2); // polling: a second reading comes without any event
    p.source.job.params = precopyJob(4); // and no event is sent
    const sample = await round;
    expect(sample).toMatchObject({ iteration: 4 });
    const r = reports[0]!;
    expect(r.polledForLackOfEvents).toBe(true);
    expect(r.subscribeErrors[0]).toMatch(/^source src: .*not supported/);
    expect(r.looks.every((l) => l === 'poll')).toBe(true);
    expect(r.observations).toBeGreaterThanOrEqual(3);
    // The refusal holds for the connection: asked once, not at every poll.
    expect(p.source.count(Procedure.ConnectDomainEventCallbackRegisterAny)).toBe(1);
  });

  it('reads anyway after safetyPollMs without an event (an event that never came)', async () => {
    const { p, reports, run } = await setup({ safetyPollMs: 100 });
    const round = run();
    await readingsDone(p, 1);
    p.source.job.params = precopyJob(4); // no event sent
    expect(await round).toMatchObject({ iteration: 4 });
    const r = reports[0]!;
    expect(r.looks.length).toBeGreaterThanOrEqual(1);
    expect(r.looks.every((l) => l === 'safety-poll')).toBe(true);
    expect(r.polledForLackOfEvents).toBe(false);
  });

  it('stops waiting when the activity is cancelled', async () => {
    const { p, env, run } = await setup();
    const round = run().catch((e: unknown) => e);
    await readingsDone(p, 1);
    env.cancel();
    expect(await round).toBeInstanceOf(CancelledFailure);
  });
});

describe('RPCs per reading, counted by the libvirt client', () => {
  it('polling reads 5 calls on the source and 3 on the destination each time; events read 3 and 3, once more after the first', async () => {
    const { p, reports, run } = await setup({ mode: 'poll' }, 20);
    const src = await p.connections.get('src');
    const dst = await p.connections.get('dst');
    const s0 = src.rpcCalls();
    const d0 = dst.rpcCalls();
    const polling = run();
    await readingsDone(p, 2);
    p.source.job.params = precopyJob(4);
    await polling;
    const pollReport = reports[0]!;
    expect(pollReport.mode).toBe('poll');
    const sPoll = rpcCallsSince(s0, src.rpcCalls());
    const dPoll = rpcCallsSince(d0, dst.rpcCalls());
    const n = pollReport.observations;
    expect(sPoll.byProcedure).toEqual({ DomainLookupByUuid: 2 * n, DomainGetState: n, DomainGetJobStats: 2 * n });
    expect(dPoll.byProcedure).toEqual({ DomainLookupByUuid: n, DomainGetState: n, DomainGetJobStats: n });
    expect(p.source.count(Procedure.ConnectDomainEventCallbackRegisterAny)).toBe(0); // poll mode never subscribes

    // The same round in events mode (same worker: the warm-up round subscribes).
    const { watchMigration } = watchActivities({ ...p.deps, watch: { mode: 'events', safetyPollMs: 60_000, onRound: (r) => reports.push(r) } });
    const env = new MockActivityEnvironment();
    await env.run(watchMigration, watchInput({ lastIteration: 4, maxWaitMs: 50 })); // warm-up: subscribes, caches the ref
    const s1 = src.rpcCalls();
    const d1 = dst.rpcCalls();
    const before = stateCalls(p);
    const jobStatsBefore = p.source.count(Procedure.DomainGetJobStats);
    const listening = env.run(watchMigration, watchInput({ lastIteration: 4 }));
    // The first reading is over once the source answered its job stats (the fake answers on
    // receipt): only then may the job move on, or that reading would already see iteration 5.
    // (Comparing the running totals of job stats and state calls did not wait: the polling round
    // before reads job stats twice per state, so that total was always ahead.)
    await waitFor(() => stateCalls(p) >= before + 2 && p.source.count(Procedure.DomainGetJobStats) >= jobStatsBefore + 1);
    p.source.job.params = precopyJob(5);
    p.source.sendIteration(5);
    expect(await listening).toMatchObject({ iteration: 5 });
    expect(reports[2]).toMatchObject({ mode: 'events', observations: 2, looks: ['event'] });
    expect(rpcCallsSince(s1, src.rpcCalls())).toEqual({ total: 6, byProcedure: { DomainLookupByUuid: 2, DomainGetState: 2, DomainGetJobStats: 2 } });
    expect(rpcCallsSince(d1, dst.rpcCalls())).toEqual({ total: 6, byProcedure: { DomainLookupByUuid: 2, DomainGetState: 2, DomainGetJobStats: 2 } });
  });

  it('counts every call by procedure name, setup included', async () => {
    const { p } = await setup();
    const src = await p.connections.get('src');
    expect(src.rpcCalls()).toEqual({ total: 3, byProcedure: { AuthList: 1, ConnectOpen: 1, ConnectSupportsFeature: 1 } });
    await src.getHostname();
    await src.getHostname();
    expect(src.rpcCalls().byProcedure.ConnectGetHostname).toBe(2);
    expect(src.rpcCalls().total).toBe(5);
  });
});
