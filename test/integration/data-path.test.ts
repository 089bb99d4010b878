/**
 * The data path on the real lab (libvirt 11.3): ferry reads which QEMU runs each guest and uses
 * what both hosts have. The lab's own QEMU 10.0 gets the switch-over bandwidth hint; the same guest
 * under Debian 12's QEMU 7.2 (lab/legacy-qemu.ts, unpacked by scripts/test.sh) does not, and still
 * moves: the hint sent to a QEMU without it would make libvirt refuse the migration. Both get
 * post-copy preemption, which libvirt turns on by itself (read from the source QEMU during the job).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FerryClient } from '../../client/ferry-client';
import { moveContinuity } from '../../lab/guest/continuity';
import { hostUri } from '../../lab/hosts';
import { legacyQemuBinary } from '../../lab/legacy-qemu';
import { setLinkCap } from '../../lab/network';
import type { LabState } from '../../lab/state';
import { createLabVm, deleteLabVm, vmSerialOn } from '../../lab/vms';
import { ensureTestLab } from './lab';
import { expectAliveOn } from './support/guest-alive';
import { expectInvariants, itClient, startWorkerProcess, type WorkerProcess } from './support/workflow-lab';

const execFileAsync = promisify(execFile);
let lab: LabState;
let A: string;
let B: string;
let worker: WorkerProcess;
let client: FerryClient;
const VMS = ['dp-qemu10', 'dp-qemu72'];

beforeAll(async () => {
  lab = await ensureTestLab();
  [A, B] = [lab.hosts[0]!.name, lab.hosts[1]!.name];
  if (!fs.existsSync(legacyQemuBinary())) {
    throw new Error(`Debian 12's QEMU 7.2 is not unpacked at ${legacyQemuBinary()}: run npx tsx lab/legacy-qemu.ts install (scripts/test.sh does)`);
  }
  for (const vm of VMS) await deleteLabVm(vm);
  worker = await startWorkerProcess('data-path');
  client = await itClient();
});
afterAll(async () => {
  await setLinkCap(A, null);
  await client?.close();
  await worker?.kill();
  for (const vm of VMS) await deleteLabVm(vm);
});

/** QEMU's own view of its migration capabilities, through libvirt's monitor passthrough (tests only). */
async function migrateCapabilities(host: string, vm: string): Promise<Record<string, string>> {
  const { stdout } = await execFileAsync('virsh', ['-c', hostUri(host), 'qemu-monitor-command', vm, '--hmp', 'info migrate_capabilities']);
  return Object.fromEntries(stdout.split('\n').map((l) => /^([\w-]+): (on|off)$/.exec(l.trim())).filter((m) => m !== null).map((m) => [m![1], m![2]]));
}

/**
 * Migrates a guest with a hot set over a capped link (it goes to post-copy), reading the source
 * QEMU's capabilities while the job runs: libvirt sets them for the job and resets them after.
 */
async function migrateHot(name: string, emulator?: string) {
  const vm = await createLabVm({ name, host: A, memoryMiB: 128, rateMiBps: 'max', wssMiB: 16, ...(emulator ? { emulator } : {}) });
  await setLinkCap(A, 200);
  const handle = await client.startMigration({ vm: vm.name, destination: B, bandwidthMiBps: 40 }, vm.uuid);
  let during: Record<string, string> | undefined;
  let done = false;
  const result = handle.result().finally(() => { done = true; });
  while (!done && !during) {
    const caps = await migrateCapabilities(A, vm.name).catch(() => undefined);
    if (caps?.['postcopy-ram'] === 'on') during = caps;
    else await new Promise((r) => setTimeout(r, 100));
  }
  const o = await result;
  await setLinkCap(A, null);
  return { vm, o, during, decision: o.decisions.find((d) => d.action === 'data-path') };
}

describe('the data path each host pair offers, on the lab', () => {
  it("the lab's QEMU 10.0: post-copy preemption on in the source QEMU, the switch-over hint sent, the guest goes on where it was", async () => {
    const { vm, o, during, decision } = await migrateHot('dp-qemu10');
    expect(o.outcome).toBe('completed');
    expect(o.mode).toBe('postcopy');
    expect(decision?.reason).toMatch(/preemption: on/);
    expect(decision?.reason).toMatch(/switch-over bandwidth hint: 40 MiB\/s/);
    expect(during, 'the source QEMU seen migrating with post-copy on').toBeDefined();
    expect(during!['postcopy-preempt']).toBe('on');
    await expectInvariants(vm, B, o.migrationId);
    await expectAliveOn(B, vm.name);
    const c = moveContinuity(await vmSerialOn(vm.name, A), await vmSerialOn(vm.name, B));
    expect(c.destinationFirst).not.toBeNull();
    expect(c.regressedBy).toBe(0);
    await deleteLabVm(vm.name);
  });

  it("Debian 12's QEMU 7.2 under the same libvirt: preemption on as well, no hint (named with the version); the move completes", async () => {
    const { vm, o, during, decision } = await migrateHot('dp-qemu72', legacyQemuBinary());
    expect(o.outcome).toBe('completed');
    expect(during, 'the source QEMU seen migrating with post-copy on').toBeDefined();
    expect(during!['postcopy-preempt']).toBe('on');
    expect(decision?.reason).toMatch(/preemption: on/);
    expect(decision?.reason).toMatch(/switch-over bandwidth hint: unavailable on libvirt 11\.3\.\d+\/11\.3\.\d+, QEMU 7\.2\.0\/7\.2\.0/);
    await expectInvariants(vm, B, o.migrationId);
    await expectAliveOn(B, vm.name);
    await deleteLabVm(vm.name);
  });
});
