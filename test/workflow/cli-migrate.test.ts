/**
 * `ferry migrate` (the CLI's action, in process) against Temporal's test server, with a worker that
 * runs the real locateVm workflow and scripted fake activities: `--to` the host the VM runs on is
 * refused as a usage error (64) once locateVm has answered, and migrate-<vm uuid> never starts.
 * A VM Temporal saw migrate before starts without the locate (client/migration-start.ts), and a
 * guess that no longer holds is corrected by the workflow's refusal.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { migrate } from '../../client/commands/migration-actions';
import { UsageError } from '../../client/errors';
import { EXIT } from '../../client/exit-codes';
import { FerryVmName, FerryVmUuid } from '../../model/search-attributes';
import { endedOnDestination, fakeActivities, precopy, type FakeActivities } from './support/fake-activities';
import { startWorkflowTestContext, type WorkflowTestContext } from './support/workflow-env';

let ctx: WorkflowTestContext;
beforeAll(async () => { ctx = await startWorkflowTestContext(); });
afterAll(async () => { await ctx?.env.teardown(); });
afterEach(() => { vi.unstubAllEnvs(); vi.restoreAllMocks(); });

const TASK_QUEUE_TYPE_WORKFLOW = 1;
const TASK_QUEUE_TYPE_ACTIVITY = 2;

/** Runs `body` while a worker with `fake`'s activities polls a fresh task queue the CLI is pointed at. */
async function withCliWorker<T>(fake: FakeActivities, body: () => Promise<T>): Promise<T> {
  const taskQueue = `cli-migrate-${randomUUID()}`;
  for (const [name, value] of Object.entries({
    TEMPORAL_ADDRESS: ctx.env.address, TEMPORAL_NAMESPACE: ctx.env.namespace ?? 'default', FERRY_TASK_QUEUE: taskQueue,
    // Plain gRPC to the test server whatever TLS the outer environment or profile asks for.
    TEMPORAL_TLS: 'false',
  })) vi.stubEnv(name, value);
  const worker = await Worker.create({
    connection: ctx.env.nativeConnection, namespace: ctx.env.namespace ?? 'default', taskQueue,
    workflowBundle: ctx.bundle, activities: fake.activities, workflowThreadPoolSize: 1,
  });
  return worker.runUntil(async () => {
    // The CLI checks for pollers first (ensureWorker): wait until the server has seen both kinds.
    const pollers = async (taskQueueType: number) => (await ctx.env.client.workflowService.describeTaskQueue({
      namespace: ctx.env.namespace ?? 'default', taskQueue: { name: taskQueue, kind: 1 }, taskQueueType,
    })).pollers?.length ?? 0;
    for (let i = 0; (await pollers(TASK_QUEUE_TYPE_WORKFLOW)) === 0 || (await pollers(TASK_QUEUE_TYPE_ACTIVITY)) === 0; i++) {
      if (i > 100) throw new Error(`no pollers on ${taskQueue} after 10 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return body();
  });
}

describe('ferry migrate --to the host the VM runs on', () => {
  it('exit 64 naming --to and the source host, after locateVm; migrate-<vm uuid> never starts', async () => {
    const fake = fakeActivities({ samples: [] }); // the VM runs on host-c
    const err = await withCliWorker(fake, () => migrate(fake.vm.name, { to: 'host-c' }).then(() => undefined, (e: unknown) => e));
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(EXIT.usage);
    expect((err as UsageError).message).toBe("invalid migration request: --to: must differ from the source host 'host-c' (the VM runs there)");
    expect(fake.names()).toEqual(['locateVm']);
    const migration = await ctx.env.client.workflow.getHandle(`migrate-${fake.vm.uuid}`).describe().then(() => 'started', (e: unknown) => e);
    expect(migration).toBeInstanceOf(WorkflowNotFoundError);
  });

  it('another host: migrate-<vm uuid> starts and completes (exit 0)', async () => {
    const fake = fakeActivities({ postcopySupported: false, samples: [precopy(1, 10), endedOnDestination()] });
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const code = await withCliWorker(fake, () => migrate(fake.vm.name, { to: 'host-a' }));
    expect(code).toBe(EXIT.ok);
    expect(fake.names()[0]).toBe('locateVm');
    expect(fake.names()).toContain('startMigration');
  });
});

/** Waits until visibility lists a migration of VM `name` (it is updated asynchronously). */
async function visibleByName(name: string): Promise<void> {
  for (let i = 0; ; i++) {
    const n = (await ctx.env.client.workflow.count(`WorkflowType = 'liveMigration' AND FerryVmName = '${name}'`)).count;
    if (n > 0) return;
    if (i > 100) throw new Error(`visibility shows no migration of ${name} after 10 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('ferry migrate of a VM Temporal has seen migrate: no locate', () => {
  it('the second migration of a name starts under the UUID its first one recorded; the worker is never asked to locate', async () => {
    const name = `web-${randomUUID().slice(0, 8)}`;
    const vm = { name, uuid: randomUUID() };
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const first = fakeActivities({ vm, postcopySupported: false, samples: [precopy(1, 10), endedOnDestination()] });
    expect(await withCliWorker(first, () => migrate(name, { to: 'host-a' }))).toBe(EXIT.ok);
    expect(first.names()[0]).toBe('locateVm');
    await visibleByName(name);

    const second = fakeActivities({ vm, source: 'host-a', postcopySupported: false, samples: [precopy(1, 10), endedOnDestination()] });
    expect(await withCliWorker(second, () => migrate(name, { to: 'host-c' }))).toBe(EXIT.ok);
    expect(second.names()).not.toContain('locateVm');
    expect(second.names()[0]).toBe('checkSource');
    expect(second.inputsOf('checkSource')[0]).toMatchObject({ vm: name });
  });

  it('a name that now belongs to another VM: the guessed run is refused before anything else, and its own migration runs', async () => {
    const name = `web-${randomUUID().slice(0, 8)}`;
    const oldUuid = randomUUID();
    // An earlier migration of the name, of a VM since deleted (its record is all that is left).
    const earlier = await ctx.env.client.workflow.start('liveMigration', {
      taskQueue: `nobody-${randomUUID()}`, workflowId: `migrate-${oldUuid}`, args: [{ vm: name }],
      typedSearchAttributes: [{ key: FerryVmUuid, value: oldUuid }, { key: FerryVmName, value: name }],
    });
    await earlier.terminate('the VM was deleted');
    await visibleByName(name);

    const vm = { name, uuid: randomUUID() };
    const fake = fakeActivities({ vm, postcopySupported: false, samples: [precopy(1, 10), endedOnDestination()] });
    const said: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => (said.push(String(s)), true));
    expect(await withCliWorker(fake, () => migrate(name, { to: 'host-a' }))).toBe(EXIT.ok);
    // The guessed run asked the source check only (the id check refused it), then the VM's own ran.
    expect(fake.names().filter((n) => n === 'checkSource')).toHaveLength(2);
    expect(fake.names()).not.toContain('locateVm');
    expect(fake.count('claim')).toBe(1);
    const guessed = await ctx.env.client.workflow.getHandle(`migrate-${oldUuid}`).result().then(() => undefined, (e: unknown) => e);
    expect(guessed).toBeInstanceOf(WorkflowFailedError);
    expect(said.join('')).toContain(`is now VM ${vm.uuid}`);
    const own = await ctx.env.client.workflow.getHandle(`migrate-${vm.uuid}`).describe();
    expect(own.status.name).toBe('COMPLETED');
  });
});

describe('ferry migrate --to the host the VM runs on, started without a locate', () => {
  it('the workflow refuses it before anything changes, and the CLI says it as the usage error a locate gives (exit 64, naming --to)', async () => {
    const vm = { name: `web-${randomUUID().slice(0, 8)}`, uuid: randomUUID() };
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const fake = fakeActivities({
      vm, source: 'host-a', postcopySupported: false, samples: [endedOnDestination()],
      overrides: {
        chooseDestinationHost: async () => {
          throw ApplicationFailure.create({
            message: 'destination host-a is the host the VM runs on: choose another host', type: 'Refused', nonRetryable: true,
            details: [{ destinationIsSource: 'host-a' }],
          });
        },
      },
    });
    // By UUID: migrate-<uuid> starts at once, no worker is asked to locate the VM.
    const err = await withCliWorker(fake, () => migrate(vm.uuid, { to: 'host-a' }).then(() => undefined, (e: unknown) => e));
    expect(fake.names()).not.toContain('locateVm');
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(EXIT.usage);
    expect((err as Error).message).toBe("invalid migration request: --to: must differ from the source host 'host-a' (the VM runs there)");
    expect(fake.count('claim')).toBe(0);
  });
});

describe('ferry migrate while the shared admission limits are full', () => {
  it("prints 'waiting for admission: <limit>', then exits 2 naming the limit once its bound is spent", async () => {
    const full = { total: 4, outOf: { 'host-x': 4 }, into: { 'host-y': 4 }, onLink: {}, hostLimits: {} };
    const fake = fakeActivities({ samples: [endedOnDestination()], overrides: { migrationsInFlight: async () => full } });
    let stderr = '';
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => { stderr += String(chunk); return true; });
    const err = await withCliWorker(fake, () =>
      migrate(fake.vm.name, { to: 'host-a', policy: '{"admission":{"waitSeconds":5}}' }).then(() => undefined, (e: unknown) => e));
    expect(stderr).toMatch(/admission {2}waiting for admission: cluster-wide limit: 4 of 4 migrations run \(since \S+; refused if still waiting at \S+\)/);
    expect((err as { exitCode?: number }).exitCode).toBe(EXIT.refused);
    expect((err as Error).message).toMatch(/refused: not admitted within 5 s \(policy\.admission\.waitSeconds\): cluster-wide limit: 4 of 4 migrations run/);
    expect(fake.count('claim')).toBe(0);
  });
});
