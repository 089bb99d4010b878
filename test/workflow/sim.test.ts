/**
 * The real LiveMigration workflow on the simulated hypervisor (activities/sim/): a guest that
 * converges completes in pre-copy, one that dirties faster than its link is moved by post-copy,
 * and an operator's abort rolls it back — the fleet's hosts and Placement say so afterwards.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { SimFleet } from '../../activities/sim/fleet';
import { createSimActivities } from '../../activities/sim/activities';
import { SimFleetSpecSchema, type SimFleetSpecInput } from '../../model/sim/fleet-spec';
import type { liveMigration } from '../../workflows';
import { FORECAST_MIGRATION_WORKFLOW_TYPE, type ForecastMigrationWorkflow } from '../../workflows/definitions';
import type { Outcome } from '../../model/types';
import { startWorkflowTestContext, type WorkflowTestContext } from './support/workflow-env';

let ctx: WorkflowTestContext;
beforeAll(async () => { ctx = await startWorkflowTestContext(); }, 120_000);
afterAll(async () => { await ctx?.env.teardown(); });

async function migrateOnSim(spec: SimFleetSpecInput, during?: (workflowId: string, fleet: SimFleet) => Promise<void>, policy?: unknown) {
  const fleet = new SimFleet(SimFleetSpecSchema.parse(spec));
  const vm = [...fleet.vms.values()][0]!;
  const source = vm.host; // the fleet moves the VM: remember where it began
  const taskQueue = `sim-${randomUUID()}`;
  const worker = await Worker.create({
    connection: ctx.env.nativeConnection, namespace: ctx.env.namespace ?? 'default', taskQueue,
    workflowBundle: ctx.bundle, activities: createSimActivities(fleet, { watchPollMs: 50 }), workflowThreadPoolSize: 1,
  });
  const outcome = await worker.runUntil(async () => {
    const handle = await ctx.env.client.workflow.start<typeof liveMigration>('liveMigration', {
      taskQueue, workflowId: `migrate-${vm.uuid}`, args: [{ vm: vm.uuid, source: vm.host, ...(policy ? { policy } : {}) }],
    });
    if (during) await during(handle.workflowId, fleet);
    return (await handle.result()) as Outcome;
  });
  return { outcome, fleet, vm, source };
}

describe('LiveMigration on the simulated hypervisor', () => {
  it('a guest that converges completes in pre-copy and ends up on the destination, its claim dropped', async () => {
    const { outcome, fleet, vm, source } = await migrateOnSim({ hosts: 3, vmsPerHost: 1, memoryMiB: [1024], dirtyMiBps: [20, 20], linkMiBps: 200, speed: 5 },
      undefined, { postcopy: { allowed: false } });
    expect(outcome).toMatchObject({ outcome: 'completed', mode: 'precopy', source });
    expect(vm.host).toBe(outcome.destination);
    expect(vm.host).not.toBe(source);
    expect(outcome.downtimeMs!).toBeLessThanOrEqual(900 + 20);
    expect(fleet.allocations.get(outcome.migrationId)).toBeUndefined();
    expect(fleet.allocations.get(vm.uuid)?.host).toBe(vm.host);
  }, 60_000);

  it('a guest that dirties faster than its link is moved by post-copy', async () => {
    const { outcome, vm } = await migrateOnSim({ hosts: 2, vmsPerHost: 1, memoryMiB: [1024], dirtyMiBps: [400, 400], workingSetFraction: [1, 1], linkMiBps: 200, speed: 5 });
    expect(outcome).toMatchObject({ outcome: 'completed', mode: 'postcopy' });
    expect(vm.host).toBe(outcome.destination);
    expect(outcome.downtimeMs).toBe(5);
  }, 60_000);

  it("an operator's abort rolls the migration back: the guest stays on its source, the claim is reverted", async () => {
    const { outcome, fleet, vm, source } = await migrateOnSim(
      { hosts: 2, vmsPerHost: 1, memoryMiB: [4096], dirtyMiBps: [100, 100], linkMiBps: 200, speed: 1 },
      async (workflowId, f) => {
        // Wait until the job runs, then abort through the workflow's own update.
        while (![...f.migrations.values()].some((m) => f.look(m).state.mode === 'precopy')) await new Promise((r) => setTimeout(r, 100));
        await ctx.env.client.workflow.getHandle(workflowId).executeUpdate('abort', { args: [{ reason: 'test' }] });
      },
      { postcopy: { allowed: false } },
    );
    expect(outcome.outcome).toBe('rolled_back');
    expect(vm.host).toBe(source);
    expect(fleet.allocations.get(outcome.migrationId)).toBeUndefined();
    expect(fleet.allocations.get(vm.uuid)?.host).toBe(source);
  }, 60_000);
});

describe('forecastMigration on the simulated hypervisor (its activities, not the fakes)', () => {
  async function forecastOnSim(spec: SimFleetSpecInput) {
    const fleet = new SimFleet(SimFleetSpecSchema.parse(spec));
    const vm = [...fleet.vms.values()][0]!;
    const taskQueue = `sim-forecast-${randomUUID()}`;
    const worker = await Worker.create({
      connection: ctx.env.nativeConnection, namespace: ctx.env.namespace ?? 'default', taskQueue,
      workflowBundle: ctx.bundle, activities: createSimActivities(fleet, { watchPollMs: 50 }), workflowThreadPoolSize: 1,
    });
    const result = await worker.runUntil(ctx.env.client.workflow.execute<ForecastMigrationWorkflow>(FORECAST_MIGRATION_WORKFLOW_TYPE, {
      taskQueue, workflowId: `forecast-${randomUUID()}`, args: [{ vm: vm.uuid }],
    }));
    return { result, vm, fleet };
  }

  it('picks pre-copy for a guest that converges and post-copy after the first pass for one that cannot; nothing moves', async () => {
    const quiet = await forecastOnSim({ hosts: 3, vmsPerHost: 1, memoryMiB: [1024], dirtyMiBps: [20, 20], linkMiBps: 200, speed: 5 });
    expect(quiet.result).toMatchObject({ pick: 'precopy', bandwidth: { source: 'inventory', bps: 200 * 1024 * 1024 }, dirtyBps: 20 * 1024 * 1024 });
    expect(quiet.result.source).toBe(quiet.vm.host); // forecast only: the VM stayed
    const busy = await forecastOnSim({ hosts: 3, vmsPerHost: 1, memoryMiB: [1024], dirtyMiBps: [400, 400], workingSetFraction: [1, 1], linkMiBps: 100, speed: 5 });
    expect(busy.result.pick).toBe('postcopy-after-first-pass');
    expect(busy.result.strategies.find((s) => s.strategy === 'precopy')!.fitsBudget).toBe(false);
  }, 60_000);
});
