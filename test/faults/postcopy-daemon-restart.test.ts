import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FerryClient } from '../../client/ferry-client';
import { killHostDaemon, startHostDaemons } from '../../lab/hosts';
import { setLinkCap } from '../../lab/network';
import type { LabState } from '../../lab/state';
import { createLabVm, deleteLabVm } from '../../lab/vms';
import { ensureTestLab } from '../integration/lab';
import { waitDestinationInPostcopy } from './matrix/stage';
import { expectInvariants, itClient, startWorkerProcess, type WorkerProcess } from '../integration/support/workflow-lab';

/**
 * The destination's libvirtd is killed and restarted during post-copy. QEMU's stream is intact, so
 * QEMU finishes on its own; the source's libvirt (its peer gone) marks post-copy failed meanwhile.
 * The recovery must see from both hosts that the guest runs on the destination and finish, not
 * keep sending POSTCOPY_RESUME ("domain is not being migrated").
 * The lab kills it (SIGKILL) and restarts it inside the namespaces of the host's live processes.
 */
let lab: LabState;
let worker: WorkerProcess;
let client: FerryClient;
const VM = 'wf-pc-daemon';

beforeAll(async () => {
  lab = await ensureTestLab();
  await deleteLabVm(VM);
  worker = await startWorkerProcess('postcopy-daemon-restart');
  client = await itClient();
});
afterAll(async () => {
  await setLinkCap(lab.hosts[0]!.name, null);
  await client?.close();
  await worker?.kill();
  await deleteLabVm(VM);
});

describe("post-copy while the destination's libvirtd restarts", () => {
  it('finishes on the destination without resuming what QEMU completed on its own', async () => {
    const [A, B] = [lab.hosts[0]!, lab.hosts[1]!];
    const vm = await createLabVm({ name: VM, host: A.name, memoryMiB: 128, rateMiBps: 'max' });
    await setLinkCap(A.name, 15); // post-copy of 128 MiB lasts several seconds: time to kill and restart
    const handle = await client.startMigration({ vm: VM, destination: B.name }, vm.uuid);
    await waitDestinationInPostcopy(B.name, vm.uuid);
    await killHostDaemon(B.name, 'libvirtd');
    await new Promise((r) => setTimeout(r, 1_000));
    await startHostDaemons(B.name, ['libvirtd']); // in the namespaces of the host's live processes
    const o = await handle.result();
    for (const d of o.decisions.filter((d) => /recover|escalate/.test(d.action))) console.log(`[recovery] ${d.action}: ${d.reason}`);
    expect(o.outcome).toBe('completed');
    expect(o.decisions.some((d) => d.action === 'roll-back')).toBe(false);
    await expectInvariants(vm, B.name, o.migrationId);
  }, 400_000);
});
