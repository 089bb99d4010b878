/**
 * The data path on the real lab: ferry reads which QEMU runs each guest and which libvirt each host
 * has, and what it decides is what QEMU then does. For a guest under the host's QEMU and for the
 * same guest under Debian 12's QEMU 7.2 binary named in its <emulator> (lab/legacy-qemu.ts,
 * unpacked by scripts/test.sh), the recorded `data-path` decision is the one the hosts' versions
 * call for, and post-copy preemption is on in the source QEMU during the job exactly when the
 * decision says so (read through libvirt's monitor passthrough). A switch-over hint sent to a
 * libvirt or QEMU without it would make libvirt refuse the migration: each move completes.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FerryClient } from '../../client/ferry-client';
import { withHostClient } from '../../lab/host-clients';
import { hostUri } from '../../lab/hosts';
import { legacyQemuBinary } from '../../lab/legacy-qemu';
import { setLinkCap } from '../../lab/network';
import type { LabState } from '../../lab/state';
import { createLabVm, deleteLabVm } from '../../lab/vms';
import { chooseDataPath, qemuVersionFromMachine, type HostStack } from '../../model/data-path';
import { ensureTestLab } from './lab';
import { expectAliveOn } from './support/guest-alive';
import { expectInvariants, itClient, startWorkerProcess, type WorkerProcess } from './support/workflow-lab';

const execFileAsync = promisify(execFile);
let lab: LabState;
let A: string;
let B: string;
let worker: WorkerProcess;
let client: FerryClient;
const VMS = ['dp-host-qemu', 'dp-qemu72'];
const BANDWIDTH = 40;

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

/** A host's libvirt, and the version of the QEMU binary given (its default machine type), read independently of ferry. */
async function stackOf(host: string, emulator?: string): Promise<HostStack> {
  return withHostClient(host, async (c) => {
    const libvirt = (await c.getLibVersion()).packed;
    const hostQemu = (await c.getVersion()).packed;
    if (!emulator) return { libvirt, qemu: hostQemu };
    const caps = await c.getDomainCapabilities({ emulatorBin: emulator, arch: 'x86_64', virtType: lab.accel === 'kvm' ? 'kvm' : 'qemu' });
    const machine = /<machine>([^<]+)<\/machine>/.exec(caps)![1]!;
    const own = qemuVersionFromMachine(machine)!;
    return { libvirt, qemu: Math.floor(own / 1000) === Math.floor(hostQemu / 1000) ? hostQemu : own };
  });
}

/**
 * Migrates a guest with a hot set over a capped link (it goes to post-copy), reading the source
 * QEMU's capabilities while the job runs: libvirt sets them for the job and resets them after.
 */
async function migrateHot(name: string, emulator?: string) {
  const vm = await createLabVm({ name, host: A, memoryMiB: 128, rateMiBps: 'max', wssMiB: 16, ...(emulator ? { emulator } : {}) });
  await setLinkCap(A, 200);
  const handle = await client.startMigration({ vm: vm.name, destination: B, bandwidthMiBps: BANDWIDTH }, vm.uuid);
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
  for (const [name, emulator] of [['dp-host-qemu', undefined], ['dp-qemu72', 'legacy']] as const) {
    it(`${emulator ? "Debian 12's QEMU 7.2 named in the guest's <emulator>" : "the hosts' own QEMU"}: the decision the versions call for, and QEMU does what it says`, async () => {
      const binary = emulator ? legacyQemuBinary() : undefined;
      const expected = chooseDataPath(
        { source: await stackOf(A, binary), destination: await stackOf(B, binary) },
        { postcopy: true, parallelConnections: 0, switchoverBandwidthMiBps: BANDWIDTH },
      );
      const { vm, o, during, decision } = await migrateHot(name, binary);
      expect(o.outcome).toBe('completed');
      expect(o.mode).toBe('postcopy');
      expect(decision?.reason).toBe(expected.why.join('; '));
      expect(during, 'the source QEMU seen migrating with post-copy on').toBeDefined();
      expect(during!['postcopy-preempt'] === 'on').toBe(expected.postcopyPreempt);
      await expectInvariants(vm, B, o.migrationId);
      await expectAliveOn(B, vm.name);
      await deleteLabVm(vm.name);
    });
  }
});
