import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FerryClient } from '../../client/ferry-client';
import { setLinkCap } from '../../lab/network';
import { waitFor } from '../../lab/proc';
import type { LabState } from '../../lab/state';
import { createLabVm, deleteLabVm } from '../../lab/vms';
import { ensureTestLab } from './lab';
import { expectInvariants, itClient, startWorkerProcess, type WorkerProcess } from './support/workflow-lab';

/**
 * Crash-resume: the worker is SIGKILLed in the middle of a migration and a new one takes over.
 * The migration must go on to the correct end (the source daemon owns the job; the workflow
 * re-attaches by observing both hosts).
 */
let lab: LabState;
let worker: WorkerProcess | undefined;
let client: FerryClient;
const VMS = ['wf-crash-pre', 'wf-crash-post'];

beforeAll(async () => {
  lab = await ensureTestLab();
  for (const vm of VMS) await deleteLabVm(vm);
  client = await itClient();
});
afterEach(async () => {
  await setLinkCap(lab.hosts[0]!.name, null);
  await worker?.kill();
  worker = undefined;
});
afterAll(async () => {
  await client?.close();
  for (const vm of VMS) await deleteLabVm(vm);
});

async function killWorkerWhen(id: string, what: string, ready: (p: Awaited<ReturnType<FerryClient['progress']>>) => boolean) {
  await waitFor(what, async () => ready(await client.progress(id)), { timeoutMs: 90_000, intervalMs: 200 });
  await worker!.kill('SIGKILL');
  worker = await startWorkerProcess('crash-replacement');
}

describe('SIGKILL of the worker mid-migration', () => {
  it('during pre-copy: a new worker finishes the migration', async () => {
    const [A, B] = [lab.hosts[0]!.name, lab.hosts[1]!.name];
    worker = await startWorkerProcess('crash-pre');
    // Dirty pages and an 8 MiB/s cap: a pre-copy of ~10-20 s.
    const vm = await createLabVm({ name: 'wf-crash-pre', host: A, memoryMiB: 128, rateMiBps: 4, wssMiB: 64 });
    const handle = await client.startMigration({ vm: vm.name, destination: B, bandwidthMiBps: 8, policy: { postcopy: { allowed: false } } }, vm.uuid);
    await killWorkerWhen(handle.workflowId, 'pre-copy with data flowing', (p) => p.phase === 'pre-copy' && p.dataTotal > 0);
    const o = await handle.result();
    expect(o.outcome).toBe('completed');
    expect(o.mode).toBe('precopy');
    await expectInvariants(vm, B, o.migrationId);
    await deleteLabVm(vm.name);
  }, 240_000);

  it('during post-copy: a new worker finishes the migration, never rolls back', async () => {
    const [A, B] = [lab.hosts[0]!.name, lab.hosts[1]!.name];
    worker = await startWorkerProcess('crash-post');
    const vm = await createLabVm({ name: 'wf-crash-post', host: A, memoryMiB: 128, rateMiBps: 'max' });
    await setLinkCap(A, 100);
    const handle = await client.startMigration({ vm: vm.name, destination: B }, vm.uuid);
    await killWorkerWhen(handle.workflowId, 'post-copy', (p) => p.phase === 'post-copy');
    const o = await handle.result();
    expect(o.outcome).toBe('completed');
    expect(o.mode).toBe('postcopy');
    expect(o.decisions.some((d) => d.action === 'roll-back')).toBe(false);
    await expectInvariants(vm, B, o.migrationId);
    await deleteLabVm(vm.name);
  }, 240_000);
});
