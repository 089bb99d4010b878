/**
 * DrainHost on a Temporal test server with fake activities: every VM that can move moves through
 * a child LiveMigration under its own migration id; a VM that fits nowhere is reported while the
 * rest move; limits hold as the history shows them; a failed move is retried elsewhere, a bounded
 * number of times; the room reserved is handed to each claim and nothing stays held.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DrainReportSchema, MAINTENANCE_TRAIT } from '../../model/drain';
import { drainPlanQuery } from '../../workflows/definitions';
import { DRAINED, drainFakes, drainVm, room } from './support/drain-fakes';
import { childSpans, historyOf, maxOverlap, runDrain, withDrainWorker } from './support/drain-env';
import { startWorkflowTestContext, type WorkflowTestContext } from './support/workflow-env';

let ctx: WorkflowTestContext;
beforeAll(async () => { ctx = await startWorkflowTestContext(); });
afterAll(async () => { await ctx?.env.teardown(); });

const fast = { initialBackoffSeconds: 0 };

describe('DrainHost: a planned drain', () => {
  it('moves every VM that can, reports the one that fits nowhere, and leaves no room held', async () => {
    const fake = drainFakes({
      vms: [drainVm('web-1', 512), drainVm('db-1', 2048, { dirtyBps: 10 * 1048576 }), drainVm('huge', 64_000), drainVm('web-2', 256)],
      destinations: [room('host-a', 4096), room('host-b', 4096)],
    });
    const { report, handle } = await runDrain(ctx, fake, { host: DRAINED, retry: fast });

    expect(DrainReportSchema.parse(report)).toEqual(report);
    expect(report.result).toBe('partial');
    expect(report.counts).toMatchObject({ total: 4, moved: 3, cannotMove: 1, failed: 0, waiting: 0, inFlight: 0 });
    const byName = Object.fromEntries(report.vms.map((v) => [v.vm.name, v]));
    expect(byName.huge).toMatchObject({ status: 'cannot-move', destination: null, attempts: [] });
    expect(byName.huge!.reason).toMatch(/^no-room: no host has room for MEMORY_MB:64000,VCPU:1/);
    for (const name of ['web-1', 'db-1', 'web-2']) {
      expect(byName[name]).toMatchObject({ status: 'moved', reason: null });
      expect(byName[name]!.attempts).toEqual([expect.objectContaining({ outcome: 'completed', destination: byName[name]!.destination })]);
    }
    // Quiet and small first: the plan's order is the start order.
    expect(report.plan.moves.map((m) => m.vm.name)).toEqual(['web-2', 'web-1', 'db-1']);

    // One child per VM, under the VM's own migration id.
    const spans = childSpans(await historyOf(handle));
    expect(spans.map((s) => s.workflowId).sort()).toEqual(['web-1', 'db-1', 'web-2'].map((n) => `migrate-${fake.uuidOf(n)}`).sort());
    // The host went into maintenance first; nothing was ever marked for a dry run.
    expect(fake.inputsOf('setHostMaintenance')).toEqual([{ host: DRAINED, on: true }]);
    expect(report.maintenance).toContain(MAINTENANCE_TRAIT);

    // Room: reserved for every planned move before the first started, handed to each claim, and released.
    const reserved = fake.inputsOf('reserveRoom').map((r) => r.reservationId);
    expect(reserved).toHaveLength(3);
    const names = fake.names();
    expect(names.lastIndexOf('reserveRoom')).toBeLessThan(names.indexOf('checkSource'));
    expect(fake.inputsOf('claim').map((c) => c.reservationId).sort()).toEqual([...reserved].sort());
    expect(fake.inputsOf('chooseDestinationHost').every((c) => c.requested?.mode === 'force')).toBe(true);
    expect(fake.inputsOf('releaseRoom').map((r) => r.reservationId).sort()).toEqual([...reserved].sort());
    expect([...report.released].sort()).toEqual([...reserved].sort());
  });

  it('nothing fits: every VM is reported, nothing starts, nothing is held', async () => {
    const fake = drainFakes({ vms: [drainVm('a', 8192), drainVm('b', 8192)], destinations: [room('host-a', 1024)] });
    const { report } = await runDrain(ctx, fake, { host: DRAINED });
    expect(report.result).toBe('partial');
    expect(report.counts).toMatchObject({ moved: 0, cannotMove: 2 });
    expect(fake.count('checkSource')).toBe(0);
    expect(fake.count('reserveRoom')).toBe(0);
  });

  it('limits of 1: one migration out of the host at a time, as the history shows', async () => {
    const fake = drainFakes({ vms: [drainVm('a', 128), drainVm('b', 128), drainVm('c', 128)], destinations: [room('host-a', 4096), room('host-b', 4096)], moveMs: 200 });
    const { report, handle } = await runDrain(ctx, fake, { host: DRAINED, limits: { maxParallel: 1 } });
    expect(report.counts.moved).toBe(3);
    const spans = childSpans(await historyOf(handle));
    expect(spans).toHaveLength(3);
    expect(maxOverlap(spans)).toBe(1);
  });

  it('into-host and out-of-host limits together: two at once, never two into one host', async () => {
    const fake = drainFakes({
      vms: ['a', 'b', 'c', 'd'].map((n) => drainVm(n, 128)),
      destinations: [room('host-a', 4096), room('host-b', 4096)], moveMs: 300,
    });
    const { report, handle } = await runDrain(ctx, fake, { host: DRAINED, limits: { maxParallel: 3, maxIntoHost: 1 } });
    expect(report.counts.moved).toBe(4);
    const spans = childSpans(await historyOf(handle));
    expect(maxOverlap(spans)).toBe(2);
    expect(maxOverlap(spans, 'host-a')).toBe(1);
    expect(maxOverlap(spans, 'host-b')).toBe(1);
  });

  it('a failed move is retried on another destination and moves there', async () => {
    const fake = drainFakes({ vms: [drainVm('flaky', 128)], destinations: [room('host-a', 4096), room('host-b', 2048)], failsOn: { flaky: ['host-a'] } });
    const { report } = await runDrain(ctx, fake, { host: DRAINED, retry: fast });
    const [flaky] = report.vms;
    expect(flaky).toMatchObject({ status: 'moved', destination: 'host-b' });
    expect(flaky!.attempts.map((a) => [a.destination, a.outcome])).toEqual([['host-a', 'failed'], ['host-b', 'completed']]);
    // Each attempt had its own reservation, and both were released.
    const reserved = fake.inputsOf('reserveRoom').map((r) => [r.destination, r.reservationId] as const);
    expect(reserved.map(([d]) => d)).toEqual(['host-a', 'host-b']);
    expect(fake.inputsOf('releaseRoom').map((r) => r.reservationId).sort()).toEqual(reserved.map(([, id]) => id).sort());
  });

  it('a VM that fails everywhere lands in the report after the bounded attempts; the others still move', async () => {
    const fake = drainFakes({
      vms: [drainVm('doomed', 128), drainVm('fine', 256)],
      destinations: [room('host-a', 4096), room('host-b', 4096), room('host-d', 4096)],
      failsOn: { doomed: ['host-a', 'host-b', 'host-d'] },
    });
    const { report } = await runDrain(ctx, fake, { host: DRAINED, retry: { maxAttempts: 2, initialBackoffSeconds: 1 } });
    const doomed = report.vms.find((v) => v.vm.name === 'doomed')!;
    expect(doomed.status).toBe('failed');
    expect(doomed.attempts).toHaveLength(2);
    expect(new Set(doomed.attempts.map((a) => a.destination)).size).toBe(2);
    expect(doomed.reason).toMatch(/2 attempts failed .*the limit is 2/);
    expect(report.vms.find((v) => v.vm.name === 'fine')!.status).toBe('moved');
    expect(report.result).toBe('partial');
  });

  it('a dry run plans only: no mark, no reservation, no migration', async () => {
    const fake = drainFakes({ vms: [drainVm('a', 128), drainVm('huge', 99_999)], destinations: [room('host-a', 4096)] });
    const report = await withDrainWorker(ctx, fake, async (start) => {
      const handle = await start({ host: DRAINED, dryRun: true }, `drain-plan-${DRAINED}-test`);
      const r = await handle.result();
      expect(await handle.query(drainPlanQuery)).toEqual(r.plan);
      return r;
    });
    expect(report.result).toBe('dry-run');
    expect(report.plan.moves.map((m) => [m.vm.name, m.destination])).toEqual([['a', 'host-a']]);
    expect(report.plan.cannotMove.map((c) => c.vm.name)).toEqual(['huge']);
    expect(fake.names()).toEqual(['gatherDrainFacts']);
  });

  it('refuses a real drain under another workflow id, naming the one to use', async () => {
    const fake = drainFakes({ vms: [], destinations: [] });
    const err = await withDrainWorker(ctx, fake, async (start) => (await start({ host: DRAINED }, 'my-drain')).result().then(() => null, (e: Error) => e));
    expect(String((err as Error & { cause?: Error }).cause?.message)).toMatch(/a drain must run as workflow id drain-host-c/);
    expect(fake.calls).toEqual([]);
  });
});
