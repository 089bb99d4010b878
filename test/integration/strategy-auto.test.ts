/**
 * `strategy: auto` on the real lab: the workflow measures the guest's dirty rate on its host
 * (QEMU's page sampling), forecasts every strategy for the path (the request's bandwidth limit),
 * records the forecast before the claim, and follows its pick. A guest that writes little stays in
 * pre-copy although the policy would allow post-copy (as configured, ferry switches once the
 * second pass starts); a guest that rewrites its working set faster than the path carries goes to
 * post-copy after the first pass. Each test prints the forecast's total time against the measured
 * one (the accuracy itself is bench/policy's to report, on a quiet machine).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FerryClient } from '../../client/ferry-client';
import type { LabState } from '../../lab/state';
import { createLabVm, deleteLabVm } from '../../lab/vms';
import { migrationWorkflowId } from '../../model/types';
import { runForecast } from '../../client/forecast-client';
import { ensureTestLab } from './lab';
import { expectAliveOn } from './support/guest-alive';
import { expectInvariants, itClient, startWorkerProcess, type WorkerProcess } from './support/workflow-lab';

let lab: LabState;
let A: string;
let B: string;
let worker: WorkerProcess;
let client: FerryClient;
const VMS = ['auto-quiet', 'auto-hot', 'auto-moved', 'auto-next'];

beforeAll(async () => {
  lab = await ensureTestLab();
  [A, B] = [lab.hosts[0]!.name, lab.hosts[1]!.name];
  for (const vm of VMS) await deleteLabVm(vm);
  worker = await startWorkerProcess('strategy-auto');
  client = await itClient();
});
afterAll(async () => {
  await client?.close();
  await worker?.kill();
  for (const vm of VMS) await deleteLabVm(vm);
});

async function migrateAuto(vm: { name: string; uuid: string }, bandwidthMiBps: number) {
  const handle = await client.startMigration({ vm: vm.name, destination: B, bandwidthMiBps, policy: { strategy: 'auto' } }, vm.uuid);
  const o = await handle.result();
  const decisions = await client.decisions(migrationWorkflowId(vm.uuid));
  const forecast = decisions.find((d) => d.action === 'forecast');
  expect(forecast, 'a forecast decision').toBeDefined();
  const actions = decisions.map((d) => d.action);
  expect(actions.indexOf('forecast')).toBeLessThan(actions.indexOf('claim'));
  const predicted = forecast!.inputs!.predictedTotalMs as number;
  // What the forecast models: from the claim to the end (claim, prepare, the job, the finish).
  const measured = o.totalMs - forecast!.atMs;
  console.log(`${vm.name}: pick ${String(forecast!.inputs!.pick)}, predicted ${(predicted / 1000).toFixed(1)} s, measured ${(measured / 1000).toFixed(1)} s ` +
    `(error ${(((measured - predicted) / measured) * 100).toFixed(0)} %); ${forecast!.reason}`);
  return { o, decisions, forecast: forecast!, policy: await client.policy(migrationWorkflowId(vm.uuid)) };
}

describe('strategy auto on the lab', () => {
  it('a guest that writes 1 MiB/s over a 32 MiB/s limit: pre-copy, post-copy kept for a stall', async () => {
    const vm = await createLabVm({ name: 'auto-quiet', host: A, memoryMiB: 128, rateMiBps: 1, wssMiB: 8 });
    const { o, decisions, forecast, policy } = await migrateAuto(vm, 32);
    expect(forecast.inputs).toMatchObject({ pick: 'precopy' });
    // The path: the request's limit when nothing else is known; fitted from the pair's earlier
    // migrations when the lab has some (the limit then holds in pre-copy only).
    if (forecast.inputs!.bandwidthSource === 'history') {
      expect(forecast.reason).toMatch(/fitted from the recent completed migrations between the hosts \(\d+\.\d MiB\/s\)/);
      // The limit binds pre-copy only where the path is faster than it.
      if ((forecast.inputs!.bandwidthBps as number) > 32 * 1024 * 1024) expect(forecast.reason).toContain('pre-copy limited to 32 MiB/s by the request');
      else expect(forecast.reason).not.toContain('pre-copy limited');
    } else {
      expect(forecast.inputs).toMatchObject({ bandwidthBps: 32 * 1024 * 1024, bandwidthSource: 'operator' });
    }
    expect(forecast.inputs!.dirtyBps as number).toBeLessThan(8 * 1024 * 1024);
    expect(policy).toMatchObject({ strategy: 'auto', postcopy: { allowed: true, when: 'on-stall' } });
    expect(o.outcome).toBe('completed');
    expect(o.mode).toBe('precopy');
    expect(decisions.some((d) => /start post-copy/.test(d.reason))).toBe(false);
    await expectInvariants(vm, B, o.migrationId);
    await expectAliveOn(B, vm.name);
  });

  it('a guest rewriting 64 MiB at full speed over an 8 MiB/s limit: post-copy after the first pass', async () => {
    const vm = await createLabVm({ name: 'auto-hot', host: A, memoryMiB: 128, rateMiBps: 'max', wssMiB: 64 });
    const { o, decisions, forecast, policy } = await migrateAuto(vm, 8);
    expect(forecast.inputs).toMatchObject({ pick: 'postcopy-after-first-pass' });
    expect(forecast.inputs!.dirtyBps as number).toBeGreaterThan(8 * 1024 * 1024);
    expect(forecast.reason).toMatch(/precopy not done in \d+ s, over budget/);
    expect(policy).toMatchObject({ strategy: 'auto', postcopy: { when: 'after-iteration' } });
    expect(o.outcome).toBe('completed');
    expect(o.mode).toBe('postcopy');
    expect(decisions.find((d) => /iteration 2 reached \(post-copy after iteration 2\).* -> start post-copy/.test(d.reason))).toBeDefined();
    await expectInvariants(vm, B, o.migrationId);
    await expectAliveOn(B, vm.name);
  });

  it("the forecast of the next move on a pair learns the pair's fixed costs from the migrations before it", async () => {
    const moved = await createLabVm({ name: 'auto-moved', host: A, memoryMiB: 128, rateMiBps: 0, wssMiB: 8 });
    const next = await createLabVm({ name: 'auto-next', host: A, memoryMiB: 128, rateMiBps: 0, wssMiB: 8 });
    const o = await (await client.startMigration({ vm: moved.name, destination: B }, moved.uuid)).result();
    expect(o.outcome).toBe('completed');
    const f = await runForecast(client, { vm: next.name, to: B, bandwidthMiBps: 32 });
    console.log(`auto-next: ${f.fixedCosts?.detail}; the migration before it took ${(o.totalMs / 1000).toFixed(1)} s in all`);
    expect(f.fixedCosts).toMatchObject({ source: 'history', detail: expect.stringMatching(/^fixed costs \d+\.\d s, the median of the last \d+ completed migrations? between the hosts(, the path fitted at \d+\.\d MiB\/s)?$/) });
    expect(f.fixedCosts!.ms).toBeGreaterThan(0);
    // An idle guest's pre-copy is its fixed costs and a few MiB at 32 MiB/s.
    const pre = f.strategies.find((x) => x.strategy === 'precopy')!;
    expect(pre.totalMs - f.fixedCosts!.ms).toBeLessThan(2_000);
  });
});
