import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import type { FerryClient } from '../../client/ferry-client';
import { rootFailure } from '../../client/outcome-format';
import type { LabState, LabVm } from '../../lab/state';
import { createLabVm, deleteLabVm } from '../../lab/vms';
import { ensureTestLab } from './lab';
import { expectInvariants, fillHost, itClient, placementClient, rpOf, startWorkerProcess, type WorkerProcess } from './support/workflow-lab';

/** Destination choice and capacity, decided by the real Placement service. */
let lab: LabState;
let worker: WorkerProcess;
let client: FerryClient;
let vm: LabVm;
const VM = 'wf-place';

beforeAll(async () => {
  lab = await ensureTestLab();
  expect(lab.hosts.length).toBeGreaterThanOrEqual(3);
  await deleteLabVm(VM);
  vm = await createLabVm({ name: VM, host: lab.hosts[0]!.name, memoryMiB: 128, rateMiBps: 0 });
  worker = await startWorkerProcess('workflow-placement');
  client = await itClient();
});
afterAll(async () => {
  await client?.close();
  await worker?.kill();
  await deleteLabVm(VM);
});

async function allocationsNow(): Promise<Record<string, unknown>> {
  return (await (await placementClient()).getAllocations(vm.uuid)).allocations;
}

async function expectRefused(request: Record<string, unknown>, pattern: RegExp): Promise<void> {
  const handle = await client.startMigration({ vm: VM, ...request }, vm.uuid);
  const err = await handle.result().then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const root = rootFailure(err);
  expect(root.type).toBe('Refused');
  expect(root.message).toMatch(pattern);
}

describe('destination choice and capacity through Placement', () => {
  it('with no destination given, Placement picks a host with room (not the full one)', async () => {
    const [a, b, c] = lab.hosts.map((h) => h.name);
    const unfillB = await fillHost(b!, 64); // host-b keeps 64 MB free: no room for 128 MiB
    try {
      const o = await (await client.startMigration({ vm: VM }, vm.uuid)).result();
      expect(o.outcome).toBe('completed');
      expect(o.source).toBe(a);
      expect(o.destination).toBe(c);
      expect(o.decisions.find((d) => d.action === 'choose-destination')?.reason).toMatch(/Placement candidates/);
      await expectInvariants(vm, c!, o.migrationId);
    } finally {
      await unfillB();
    }
  });

  it('refuses a destination without room and changes nothing', async () => {
    const where = lab.hosts.find((h) => h.name !== lab.hosts[0]!.name && h.name !== lab.hosts[2]!.name)!.name; // host-b
    const before = await allocationsNow();
    const unfill = await fillHost(where, 64);
    try {
      await expectRefused({ destination: where }, /no room/);
      expect(await allocationsNow()).toEqual(before);
      await expectInvariants(vm, lab.hosts[2]!.name);
    } finally {
      await unfill();
    }
  });

  it('still capacity-checks a forced host: the claim is refused and allocations are exactly as before', async () => {
    const where = lab.hosts[1]!.name;
    const before = await allocationsNow();
    expect(Object.keys(before)).toEqual([rpOf(lab.hosts[2]!.name)]);
    const unfill = await fillHost(where, 64);
    try {
      await expectRefused({ destination: { host: where, mode: 'force' } }, /no room/);
      expect(await allocationsNow()).toEqual(before);
      await expectInvariants(vm, lab.hosts[2]!.name);
    } finally {
      await unfill();
    }
  });

  it('refuses a second migration of a VM whose migration is running, with the running one\'s id', async () => {
    const first = await client.startMigration({ vm: VM, destination: lab.hosts[0]!.name, bandwidthMiBps: 1 }, vm.uuid);
    await expect(client.startMigration({ vm: VM, destination: lab.hosts[1]!.name }, vm.uuid)).rejects.toThrow(first.workflowId);
    const o = await first.result();
    expect(o.outcome).toBe('completed');
    await expectInvariants(vm, lab.hosts[0]!.name, o.migrationId);
  }, 120_000);

  it('refuses invalid input at once, naming the field', async () => {
    await expect(client.startMigration({ vm: VM, destination: { host: 'host-b', mode: 'sideways' } }, vm.uuid)).rejects.toThrow(/destination\.mode/);
    await expect(client.startMigration({ vm: VM, colour: 'blue' }, vm.uuid)).rejects.toThrow(/colour: unknown field/);
  });
});
