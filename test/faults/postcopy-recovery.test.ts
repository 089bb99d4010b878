import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FerryClient } from '../../client/ferry-client';
import { setLinkCap } from '../../lab/network';
import type { LabState } from '../../lab/state';
import { createLabVm, deleteLabVm } from '../../lab/vms';
import { ensureTestLab } from '../integration/lab';
import { breakMigrationStream, waitDestinationInPostcopy } from './matrix/stage';
import { expectInvariants, itClient, startWorkerProcess, type WorkerProcess } from '../integration/support/workflow-lab';

/**
 * A post-copy whose migration stream breaks is recovered (POSTCOPY_RESUME), never destroyed:
 * the pain point none of Nova, KubeVirt, oVirt handles (anchors.md). The break is real: the
 * source host's migration sockets are destroyed with `ss -K` inside its network namespace.
 */
let lab: LabState;
let worker: WorkerProcess;
let client: FerryClient;
const VM = 'wf-pc-break';

beforeAll(async () => {
  lab = await ensureTestLab();
  await deleteLabVm(VM);
  worker = await startWorkerProcess('postcopy-recovery');
  client = await itClient();
});
afterAll(async () => {
  await setLinkCap(lab.hosts[0]!.name, null);
  await client?.close();
  await worker?.kill();
  await deleteLabVm(VM);
});

describe('post-copy broken mid-flight', () => {
  it('is recovered with POSTCOPY_RESUME and completes on the destination', async () => {
    const [A, B] = [lab.hosts[0]!, lab.hosts[1]!];
    const vm = await createLabVm({ name: VM, host: A.name, memoryMiB: 128, rateMiBps: 'max' });
    await setLinkCap(A.name, 100);
    const handle = await client.startMigration({ vm: VM, destination: B.name }, vm.uuid);
    // Post-copy has begun only once the destination RUNS in post-copy: libvirt starts the vCPUs
    // there ~50 ms after the source says 'paused (Postcopy)', and a break before that makes it kill
    // the incoming guest (nothing left to resume; model/postcopy-recovery.ts). Watch host-b itself.
    await waitDestinationInPostcopy(B.name, vm.uuid);
    breakMigrationStream(A, B); // every TCP connection from host-a to host-b's migration ports
    const o = await handle.result();
    // The recovery's story, for whoever reads the run (which refusals were "not yet", how many attempts).
    for (const d of o.decisions.filter((d) => /recover|escalate/.test(d.action))) console.log(`[recovery] ${d.action}: ${d.reason}`);
    expect(o.outcome).toBe('completed');
    expect(o.mode).toBe('postcopy');
    expect(o.decisions.some((d) => d.action === 'recover-postcopy')).toBe(true);
    expect(o.decisions.some((d) => d.action === 'roll-back')).toBe(false);
    await expectInvariants(vm, B.name, o.migrationId);
  }, 300_000);
});
