import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FerryClient } from '../../client/ferry-client';
import { rootFailure } from '../../client/outcome-format';
import { setLinkCap } from '../../lab/network';
import { waitFor } from '../../lab/proc';
import type { LabState, LabVm } from '../../lab/state';
import { temporalCliPath, temporalStatus } from '../../lab/temporal';
import { createLabVm, deleteLabVm } from '../../lab/vms';
import type { Outcome } from '../../model/types';
import { ensureTestLab } from './lab';
import { expectAliveOn } from './support/guest-alive';
import { expectInvariants, itClient, placementClient, rpOf, startWorkerProcess, type WorkerProcess } from './support/workflow-lab';

/** The LiveMigration workflow end to end on the lab: real Temporal, Placement and libvirt hosts. */
const execFileAsync = promisify(execFile);
let lab: LabState;
let A: string;
let B: string;
let worker: WorkerProcess;
let client: FerryClient;
const VMS = ['wf-idle', 'wf-postcopy', 'wf-pause', 'wf-abort', 'wf-abort-cli', 'wf-pc-abort'];

beforeAll(async () => {
  lab = await ensureTestLab();
  [A, B] = [lab.hosts[0]!.name, lab.hosts[1]!.name];
  for (const vm of VMS) await deleteLabVm(vm);
  worker = await startWorkerProcess('workflow-migration');
  client = await itClient();
});
afterEach(async () => {
  await setLinkCap(A, null);
});
afterAll(async () => {
  await client?.close();
  await worker?.kill();
  for (const vm of VMS) await deleteLabVm(vm);
});

async function migrate(vm: LabVm, request: Record<string, unknown>): Promise<{ id: string; outcome: Promise<Outcome> }> {
  const handle = await client.startMigration({ vm: vm.name, ...request }, vm.uuid);
  return { id: handle.workflowId, outcome: handle.result() };
}
async function waitForPhase(id: string, phases: string[]): Promise<void> {
  await waitFor(`migration ${id} to reach ${phases.join(' or ')}`, async () => phases.includes((await client.progress(id)).phase), {
    timeoutMs: 90_000, intervalMs: 200,
  });
}

describe('LiveMigration workflow on the lab', () => {
  it('migrates an idle guest in pre-copy; outcome, allocations and both hosts agree', async () => {
    const vm = await createLabVm({ name: 'wf-idle', host: A, memoryMiB: 128, rateMiBps: 0 });
    const before = await (await placementClient()).getAllocations(vm.uuid);
    expect(Object.keys(before.allocations)).toEqual([rpOf(A)]);
    const { outcome } = await migrate(vm, { destination: B });
    const o = await outcome;
    expect(o.outcome).toBe('completed');
    expect(o.mode).toBe('precopy');
    expect([o.source, o.destination]).toEqual([A, B]);
    expect(o.downtimeMs).toBeGreaterThan(0);
    expect(o.guestMaxStallMs).not.toBeNull();
    expect(o.hosts.destination).toMatch(/^running/);
    expect(o.decisions.map((d) => d.action)).toEqual(expect.arrayContaining(['choose-destination', 'claim', 'start', 'job-ended']));
    await expectInvariants(vm, B, o.migrationId);
    await expectAliveOn(B, vm.name);
    const history = await client.history(vm.name);
    expect(history.map((h) => h.outcome)).toContain('completed');
    await deleteLabVm(vm.name);
  });

  it('switches to post-copy after the first pass when the guest dirties faster than the link', async () => {
    const vm = await createLabVm({ name: 'wf-postcopy', host: A, memoryMiB: 128, rateMiBps: 'max' });
    await setLinkCap(A, 200);
    const o = await (await migrate(vm, { destination: B })).outcome;
    expect(o.outcome).toBe('completed');
    expect(o.mode).toBe('postcopy');
    expect(o.decisions.some((d) => d.action === 'start-postcopy' && /iteration 2/.test(d.reason))).toBe(true);
    expect(o.guestMaxStallMs).toBeGreaterThan(0);
    await expectInvariants(vm, B, o.migrationId);
    await expectAliveOn(B, vm.name);
    await deleteLabVm(vm.name);
  });

  it('with post-copy disallowed by policy, falls back to pausing the guest and completes', async () => {
    const vm = await createLabVm({ name: 'wf-pause', host: A, memoryMiB: 128, rateMiBps: 'max' });
    await setLinkCap(A, 200);
    const policy = { postcopy: { allowed: false }, stall: { windowMs: 8_000 }, downtime: { maxMs: 300, steps: 2 } };
    const o = await (await migrate(vm, { destination: B, policy })).outcome;
    expect(o.outcome).toBe('completed');
    expect(o.mode).toBe('paused');
    expect(o.decisions.some((d) => d.action === 'pause')).toBe(true);
    expect(o.decisions.some((d) => d.action === 'start-postcopy')).toBe(false);
    await expectInvariants(vm, B, o.migrationId);
    await expectAliveOn(B, vm.name);
    await deleteLabVm(vm.name);
  }, 180_000);

  it('abort mid-pre-copy through ferry rolls back: VM running on the source, nothing on the destination, allocations as before', async () => {
    const vm = await createLabVm({ name: 'wf-abort', host: A, memoryMiB: 128, rateMiBps: 'max' });
    await setLinkCap(A, 200);
    const { id, outcome } = await migrate(vm, { destination: B, policy: { postcopy: { allowed: false }, pause: { allowed: false } } });
    await waitForPhase(id, ['pre-copy']);
    await waitFor('data to flow', async () => (await client.progress(id)).dataTotal > 0, { timeoutMs: 60_000 });
    const r = await client.abort(id, 'integration test');
    expect(r.message).toMatch(/abort/);
    const o = await outcome;
    expect(o.outcome).toBe('rolled_back');
    expect(o.hosts.destination).toBe('absent');
    await expectInvariants(vm, A, o.migrationId);
    await expectAliveOn(A, vm.name);
    await deleteLabVm(vm.name);
  });

  it('abort through the raw Temporal CLI rolls back too', async () => {
    const vm = await createLabVm({ name: 'wf-abort-cli', host: A, memoryMiB: 128, rateMiBps: 'max' });
    await setLinkCap(A, 200);
    const { id, outcome } = await migrate(vm, { destination: B, policy: { postcopy: { allowed: false }, pause: { allowed: false } } });
    await waitForPhase(id, ['pre-copy']);
    const t = await temporalStatus();
    if (!t.running) throw new Error('the lab Temporal server is not running');
    const { stdout } = await execFileAsync(temporalCliPath(), [
      'workflow', 'update', 'execute', '--address', t.address, '--workflow-id', id, '--name', 'abort',
    ]);
    expect(stdout).toMatch(/abort/);
    const o = await outcome;
    expect(o.outcome).toBe('rolled_back');
    await expectInvariants(vm, A, o.migrationId);
    await deleteLabVm(vm.name);
  });

  it('refuses an abort during post-copy, saying why, and completes', async () => {
    const vm = await createLabVm({ name: 'wf-pc-abort', host: A, memoryMiB: 128, rateMiBps: 'max' });
    await setLinkCap(A, 100); // ~11 s per pass: post-copy lasts long enough to be asked to abort
    const { id, outcome } = await migrate(vm, { destination: B });
    await waitForPhase(id, ['post-copy', 'finishing', 'done']);
    const refused = await client.abort(id).then(() => null, (err: unknown) => rootFailure(err).message);
    expect(refused).toMatch(/post-copy|over/);
    const o = await outcome;
    expect(o.outcome).toBe('completed');
    expect(o.mode).toBe('postcopy');
    await expectInvariants(vm, B, o.migrationId);
    await deleteLabVm(vm.name);
  }, 180_000);
});
