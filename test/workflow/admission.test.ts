/**
 * Admission shared by drains and single migrations, on a Temporal test server with fake
 * activities: what visibility shows in flight elsewhere is scripted (migrationsInFlight). A single
 * migration waits while a limit is full — its progress says which — and goes on once there is
 * room, with fresh pre-checks; it is refused after its bound, naming the limit, with nothing
 * claimed; a drain holds its moves back for single migrations' load and its children do not wait
 * again.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOTHING_IN_FLIGHT, type InFlightCounts } from '../../model/migrations-in-flight';
import type { Outcome, Progress } from '../../model/types';
import { abortUpdate, drainProgressQuery, progressQuery } from '../../workflows/definitions';
import { DRAINED, drainFakes, drainVm, room } from './support/drain-fakes';
import { withDrainWorker } from './support/drain-env';
import { runningMigrationsFrom } from '../../worker/visibility/running-migrations';
import { endedOnDestination, fakeActivities, Gate, precopy, setup } from './support/fake-activities';
import { failureChain, startWorkflowTestContext, withWorker, type WorkflowTestContext } from './support/workflow-env';

let ctx: WorkflowTestContext;
beforeAll(async () => { ctx = await startWorkflowTestContext(); });
afterAll(async () => { await ctx?.env.teardown(); });

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const counts = (over: Partial<InFlightCounts>): InFlightCounts => ({ ...NOTHING_IN_FLIGHT, ...over });
const FULL_CLUSTER = counts({ total: 4, outOf: { 'host-x': 2, 'host-y': 2 }, into: { 'host-z': 4 } });

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(v)}`);
    await sleep(100);
  }
}

describe('a single migration under the shared limits', () => {
  it('waits while the cluster is full, says so in its progress, then proceeds with fresh pre-checks', async () => {
    let full = true;
    const fake = fakeActivities({
      samples: [setup(), precopy(1, 40), endedOnDestination()],
      overrides: { migrationsInFlight: async () => (full ? FULL_CLUSTER : counts({ total: 3 })) },
    });
    const { outcome, waiting } = await withWorker(ctx, fake, async (start) => {
      const { handle } = await start({ vm: 'web-7', destination: 'host-a' });
      const p = await until('the admission wait', () => handle.query(progressQuery), (x: Progress) => x.phase === 'admission');
      // Nothing claimed while it waits.
      expect(fake.count('claim')).toBe(0);
      full = false;
      return { outcome: await handle.result(), waiting: p };
    });

    expect(waiting.verdict).toBe('waiting for admission: cluster-wide limit: 4 of 4 migrations run');
    expect(waiting.admissionWait).toMatchObject({ limit: 'cluster-wide limit: 4 of 4 migrations run' });
    // Bounded by policy.admission.waitSeconds (900 s by default) from the start of the step.
    const bound = Date.parse(waiting.admissionWait!.until) - Date.parse(waiting.admissionWait!.since);
    expect(bound).toBeGreaterThan(890_000);
    expect(bound).toBeLessThanOrEqual(900_000);
    expect(outcome.outcome).toBe('completed');
    const actions = outcome.decisions.map((d) => d.action);
    expect(actions.slice(0, 6)).toEqual(['choose-destination', 'resolve-policy', 'admission-wait', 'choose-destination', 'resolve-policy', 'admission']);
    expect(outcome.decisions.find((d) => d.action === 'admission-wait')!.reason)
      .toMatch(/^waiting for admission: cluster-wide limit: 4 of 4 migrations run; looking again/);
    expect(outcome.decisions.find((d) => d.action === 'admission')!.reason).toMatch(/^admitted after \d+ s of waiting, with fresh pre-checks/);
    // The pre-checks ran again after the wait, then the claim; the migration excluded itself each time.
    const names = fake.names();
    expect(names.slice(0, 11)).toEqual([
      'checkSource', 'chooseDestinationHost', 'checkDestination', 'checkStorage', 'migrationsInFlight', 'migrationsInFlight',
      'checkSource', 'chooseDestinationHost', 'checkDestination', 'checkStorage', 'migrationsInFlight',
    ]);
    expect(names[11]).toBe('claim');
    expect(new Set(fake.inputsOf('migrationsInFlight').map((i) => i.excludeWorkflowIds.join()))).toEqual(new Set([`migrate-${fake.vm.uuid}`]));
  });

  it('is refused after its bound, naming the limit; nothing is claimed, prepared or started', async () => {
    const fake = fakeActivities({
      samples: [endedOnDestination()],
      overrides: { migrationsInFlight: async () => counts({ total: 2, into: { 'host-a': 2 } }) },
    });
    const err = await withWorker(ctx, fake, async (start) => {
      const { handle } = await start({ vm: 'web-7', destination: 'host-a', policy: { admission: { waitSeconds: 1 } } });
      return handle.result().then((o: Outcome) => { throw new Error(`expected a refusal, got ${o.outcome}`); }, (e: unknown) => e);
    });
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const refusal = failureChain(err).find((l) => l.type === 'Refused');
    expect(refusal).toMatchObject({ nonRetryable: true });
    expect(refusal!.message).toMatch(/^not admitted within 1 s \(policy\.admission\.waitSeconds\): limit into host-a: 2 of 2 run; nothing has changed on either host/);
    expect(refusal!.message).toMatch(/policy\.admission\.maxIntoHost, or the destination's maxIncomingMigrations/);
    for (const act of ['claim', 'prepareDestination', 'startMigration', 'rollbackMigration'] as const) expect(fake.count(act)).toBe(0);
    expect(fake.count('migrationsInFlight')).toBeGreaterThanOrEqual(2);
  });

  it("an operator's abort ends the wait at once: nothing claimed, rolled back as any abort before the start", async () => {
    const fake = fakeActivities({ samples: [endedOnDestination()], overrides: { migrationsInFlight: async () => FULL_CLUSTER } });
    const outcome = await withWorker(ctx, fake, async (start) => {
      const { handle } = await start({ vm: 'web-7', destination: 'host-a' });
      await until('the admission wait', () => handle.query(progressQuery), (x: Progress) => x.phase === 'admission');
      await handle.executeUpdate(abortUpdate, { args: [{ reason: 'not today' }] });
      return handle.result();
    });
    expect(outcome.outcome).toBe('rolled_back');
    expect(outcome.totalMs).toBeLessThan(5_000); // the first look again would have come after 5 s
    expect(fake.count('migrationsInFlight')).toBe(1);
    for (const act of ['claim', 'prepareDestination', 'startMigration'] as const) expect(fake.count(act)).toBe(0);
    expect(outcome.decisions.find((d) => d.action === 'admission')!.reason).toBe("wait ended by the operator's abort (not today)");
  });

  it("a host's inventory limit is stricter than the policy's: one migration out of host-c", async () => {
    const fake = fakeActivities({
      samples: [endedOnDestination()],
      overrides: { migrationsInFlight: async () => counts({ total: 1, outOf: { 'host-c': 1 }, hostLimits: { 'host-c': { maxOutgoing: 1, maxIncoming: null } } }) },
    });
    const err = await withWorker(ctx, fake, async (start) => {
      const { handle } = await start({ vm: 'web-7', destination: 'host-a', policy: { admission: { waitSeconds: 0 } } });
      return handle.result().then(() => null, (e: unknown) => e);
    });
    expect(failureChain(err).find((l) => l.type === 'Refused')!.message).toMatch(/^not admitted within 0 s .*: limit out of host-c: 1 of 1 run;/);
  });
});

describe("what admission reads: the worker's visibility listing", () => {
  it('lists a running migration with its source, destination and phase as soon as its pre-checks set them', async () => {
    const hold = new Gate(precopy(1, 90));
    const fake = fakeActivities({ samples: [precopy(1, 100), hold, endedOnDestination()] });
    const visibility = runningMigrationsFrom(ctx.env.nativeConnection, ctx.env.namespace ?? 'default');
    await withWorker(ctx, fake, async (start) => {
      const { handle, workflowId } = await start({ vm: 'web-7', destination: 'host-a' });
      await hold.reached;
      const listed = await until('the migration in visibility', () => visibility.runningMigrations(),
        (rows) => rows.some((r) => r.workflowId === workflowId && r.phase === 'pre-copy'));
      expect(listed.find((r) => r.workflowId === workflowId)).toEqual({ workflowId, source: 'host-c', destination: 'host-a', phase: 'pre-copy' });
      hold.release();
      await handle.result();
    });
    // Closed: no longer listed as running.
    await until('the migration gone from the running ones', () => visibility.runningMigrations(), (rows) => rows.length === 0);
  });
});

describe('a drain under the shared limits', () => {
  it("holds its moves back while single migrations fill the destination, then moves; its children do not wait again", async () => {
    let busy = true;
    const fake = drainFakes({
      vms: [drainVm('a', 128), drainVm('b', 128)],
      destinations: [room('host-a', 4096)],
      inFlight: async () => (busy ? counts({ total: 2, outOf: { 'host-b': 2 }, into: { 'host-a': 2 }, onLink: { 'host-b->host-a': 2 } }) : NOTHING_IN_FLIGHT),
    });
    const report = await withDrainWorker(ctx, fake, async (start) => {
      const handle = await start({ host: DRAINED, limits: { maxParallel: 2, maxIntoHost: 2 } });
      const progress = await until('moves held back', () => handle.query(drainProgressQuery),
        (p) => p.vms.length === 2 && p.vms.every((v) => v.reason?.startsWith('waiting: limit into host-a') ?? false));
      expect(progress.vms[0]!.reason).toBe('waiting: limit into host-a: 2 of 2 run (2 of them by other drains or migrations)');
      expect(fake.count('checkSource')).toBe(0);
      busy = false;
      return handle.result();
    });
    expect(report.counts.moved).toBe(2);
    // The children were admitted by the drain: their requests say so and they did not ask visibility themselves.
    for (const name of ['a', 'b']) {
      const child = await ctx.env.client.workflow.getHandle(`migrate-${fake.uuidOf(name)}`).result() as Outcome;
      expect(child.decisions.find((d) => d.action === 'admission')!.reason).toBe(`admitted by drain-${DRAINED} under the shared limits`);
    }
    const asked = fake.inputsOf('migrationsInFlight');
    expect(asked.length).toBeGreaterThanOrEqual(2);
    // Only the drain asked: it leaves out its own moves in flight (none while both waited).
    expect(asked[0]).toEqual({ excludeWorkflowIds: [] });
  });
});
