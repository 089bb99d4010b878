/**
 * The lab's fault matrix (lab/faults.ts, `ferry lab fault …`): each fault is inflicted on its own,
 * observed from outside (a socket or port that refuses, a TCP connect between host namespaces
 * that fails, a guest whose heartbeat goes on), healed by its heal function, inflicted again and
 * healed by `ferry lab up`, and observed healthy again. The lab is whole after this file, so the
 * teardown test (nothing left behind) still holds.
 */
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PlacementClient } from '../../activities/placement';
import {
  cutLink, faultJournal, faultKey, killDaemon, observeFaults, restartDaemon, restoreLink, startService, stopService, type FaultEvent, type LabFault,
} from '../../lab/faults';
import { findDomain, withHostClient } from '../../lab/host-clients';
import { hostDaemonPidOf, hostQemuPids, hostSocketPath, hostVirtlogdSocketPath, socketAccepts } from '../../lab/hosts';
import { hostNetns } from '../../lab/network';
import { repoRoot } from '../../lab/paths';
import { waitFor } from '../../lab/proc';
import { placementStatus } from '../../lab/placement';
import type { LabHost, LabState } from '../../lab/state';
import { labStatus } from '../../lab/status';
import { temporalStatus } from '../../lab/temporal';
import { createLabVm, deleteLabVm } from '../../lab/vms';
import { ferrySearchAttributes } from '../../model/search-attributes';
import * as activities from './fixtures/hello-activities';
import { hello } from './fixtures/hello-workflow';
import { ensureTestLab } from './lab';
import { expectAliveOn } from './support/guest-alive';

let lab: LabState;
let A: LabHost;
let B: LabHost;
let C: LabHost;
const VM = 'fault-guest';

beforeAll(async () => {
  lab = await ensureTestLab();
  [A, B, C] = [lab.hosts[0]!, lab.hosts[1]!, lab.hosts[2]!];
  await deleteLabVm(VM);
});

// Each case starts from a whole lab: a case that failed half-way does not break the next ones.
beforeEach(async () => {
  if ((await downNow()).length > 0) await ensureTestLab();
}, 120_000);

afterAll(async () => {
  // Whatever a failed case left broken, the lab leaves this file whole.
  await ensureTestLab();
  await deleteLabVm(VM);
});

/** `ferry lab …` as an operator runs it, with this lab's environment. */
function ferry(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'ferry'), ...args], { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `ferry lab up`, the heal-everything: must succeed, and says what it brought back. */
async function labUpCli(): Promise<string> {
  const r = await ferry('lab', 'up');
  expect(r.code, r.stderr).toBe(0);
  return r.stderr;
}

/** A TCP connect to 127.0.0.1:port. */
function tcpAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.setTimeout(2_000, () => {
      s.destroy();
      resolve(false);
    });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** A TCP connect from inside one host's network namespace to another host's libvirtd (port 16509). */
function reaches(from: LabHost, to: LabHost): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', hostNetns(from.name), 'timeout', '2', 'bash', '-c', `exec 3<>/dev/tcp/${to.address}/16509`], (err) =>
      resolve(err === null),
    );
  });
}

/**
 * A path that must carry traffic again after a heal: it does within a few seconds (the first
 * SYN may wait for ARP to resolve anew on a loaded machine). A cut path is tried once, 2 s.
 */
async function expectReach(from: LabHost, to: LabHost, reach: boolean): Promise<void> {
  if (!reach) {
    expect(await reaches(from, to), `${from.name} -> ${to.name}`).toBe(false);
    return;
  }
  await waitFor(`${from.name} to reach ${to.name}`, () => reaches(from, to), { timeoutMs: 15_000, intervalMs: 100 });
}

function expectEvent(e: FaultEvent, action: FaultEvent['action'], what: string, changed: boolean): void {
  expect(e).toMatchObject({ action, what, changed });
  expect(Date.now() - Date.parse(e.at)).toBeLessThan(60_000);
}

async function downNow(): Promise<string[]> {
  return (await observeFaults()).map((d) => d.what);
}

describe('a host daemon killed', () => {
  it("libvirtd: its socket refuses, the guest runs on; restarted alone, it reconnects to the guest (by restartDaemon, then by lab up)", async () => {
    const vm = await createLabVm({ name: VM, host: A.name, memoryMiB: 128, rateMiBps: 0 });
    const [qemu] = hostQemuPids(A.name);
    expect(qemu).toBeDefined();
    const virtlogd = hostDaemonPidOf(A.name, 'virtlogd');

    for (const healBy of ['restartDaemon', 'lab up'] as const) {
      const killed = await killDaemon(A.name, 'libvirtd');
      expectEvent(killed, 'inflict', `libvirtd of ${A.name}`, true);
      expect(killed.detail).toMatch(/^SIGKILL pid \d+$/);
      expect(await socketAccepts(hostSocketPath(A.name))).toBe(false);
      expectEvent(await killDaemon(A.name, 'libvirtd'), 'inflict', `libvirtd of ${A.name}`, false); // idempotent
      // The guest does not need its libvirtd: its heartbeat goes on.
      await expectAliveOn(A.name, VM);
      const status = await labStatus();
      expect(status.hosts.find((h) => h.name === A.name)).toMatchObject({ up: false, libvirtd: null, virtlogd });
      expect(status.down).toContainEqual(expect.objectContaining({ what: `libvirtd of ${A.name}`, since: killed.at }));

      if (healBy === 'restartDaemon') {
        const healed = await restartDaemon(A.name, 'libvirtd');
        expectEvent(healed, 'heal', `libvirtd of ${A.name}`, true);
        expect(healed.detail).toContain(`in the namespaces of pid ${virtlogd}`);
        expectEvent(await restartDaemon(A.name, 'libvirtd'), 'heal', `libvirtd of ${A.name}`, false); // idempotent
      } else {
        expect(await labUpCli()).toContain(`started libvirtd in the namespaces of pid ${virtlogd}`);
        expect(faultJournal().at(-1)).toMatchObject({ action: 'heal', what: `libvirtd of ${A.name}`, by: 'lab up' });
      }
      expect(await socketAccepts(hostSocketPath(A.name))).toBe(true);
      expect(hostDaemonPidOf(A.name, 'virtlogd')).toBe(virtlogd); // never replaced what ran
      expect(hostQemuPids(A.name)).toEqual([qemu]); // the same QEMU process: not restarted
      const found = await withHostClient(A.name, (c) => findDomain(c, VM));
      expect(found?.state.stateName).toBe('running');
      await expectAliveOn(A.name, VM);
      expect(await downNow()).toEqual([]);
    }
    await deleteLabVm(vm.name);
  }, 240_000);

  it('virtlogd: its socket refuses; restarted alone, libvirtd untouched (by restartDaemon, then by lab up)', async () => {
    const libvirtd = hostDaemonPidOf(B.name, 'libvirtd');
    expect(libvirtd).toBeDefined();
    for (const healBy of ['restartDaemon', 'lab up'] as const) {
      const killed = await killDaemon(B.name, 'virtlogd');
      expectEvent(killed, 'inflict', `virtlogd of ${B.name}`, true);
      expect(await socketAccepts(hostVirtlogdSocketPath(B.name))).toBe(false);
      expect(await downNow()).toEqual([`virtlogd of ${B.name}`]);
      if (healBy === 'restartDaemon') {
        const healed = await restartDaemon(B.name, 'virtlogd');
        expectEvent(healed, 'heal', `virtlogd of ${B.name}`, true);
        expect(healed.detail).toContain(`in the namespaces of pid ${libvirtd}`);
      } else {
        // Before this fix, `lab up` here failed: "virtlogd: Unable to obtain pidfile".
        expect(await labUpCli()).toContain(`started virtlogd in the namespaces of pid ${libvirtd}`);
      }
      expect(await socketAccepts(hostVirtlogdSocketPath(B.name))).toBe(true);
      expect(hostDaemonPidOf(B.name, 'libvirtd')).toBe(libvirtd);
      expect(await downNow()).toEqual([]);
    }
  }, 120_000);

  it('both: a host whose namespaces remain but whose daemons are gone is booted afresh by lab up; with a guest left, in its namespaces', async () => {
    await createLabVm({ name: VM, host: A.name, memoryMiB: 128, rateMiBps: 0 });
    const [qemu] = hostQemuPids(A.name);
    // host-c, no guest: nothing of the host runs any more, only its network namespace is left.
    await killDaemon(C.name, 'libvirtd');
    await killDaemon(C.name, 'virtlogd');
    // host-a with a guest: its QEMU still holds the host's namespaces.
    await killDaemon(A.name, 'libvirtd');
    await killDaemon(A.name, 'virtlogd');
    expect(await downNow()).toEqual([`virtlogd of ${A.name}`, `libvirtd of ${A.name}`, `virtlogd of ${C.name}`, `libvirtd of ${C.name}`]);
    await expectAliveOn(A.name, VM);

    const said = await labUpCli();
    expect(said).toContain(`host ${C.name} up (${C.address}, `);
    expect(said).toMatch(new RegExp(`host ${C.name} up [^\\n]*; started virtlogd and libvirtd\\n`));
    expect(said).toContain(`started virtlogd and libvirtd in the namespaces of pid ${qemu}`);
    for (const h of [A, C]) {
      expect(await socketAccepts(hostSocketPath(h.name))).toBe(true);
      expect(await socketAccepts(hostVirtlogdSocketPath(h.name))).toBe(true);
      expect(await withHostClient(h.name, (c) => c.getHostname())).toBe(h.name);
    }
    expect(hostQemuPids(A.name)).toEqual([qemu]);
    expect((await withHostClient(A.name, (c) => findDomain(c, VM)))?.state.stateName).toBe('running');
    await expectAliveOn(A.name, VM);
    expect(await downNow()).toEqual([]);
    await deleteLabVm(VM);
  }, 240_000);
});

describe('a link cut', () => {
  it("a host's whole link: it reaches no host and no host reaches it; restored by restoreLink, then by lab up", async () => {
    await expectReach(A, B, true);
    for (const healBy of ['restoreLink', 'lab up'] as const) {
      const r = await ferry('lab', 'fault', 'cut', B.name, '--json');
      expect(r.code, r.stderr).toBe(0);
      const cut = JSON.parse(r.stdout) as FaultEvent;
      expectEvent(cut, 'inflict', `link of ${B.name}`, true);
      await expectReach(A, B, false);
      await expectReach(B, C, false);
      await expectReach(A, C, true);
      expect((await labStatus()).hosts.find((h) => h.name === B.name)?.link).toBe('cut');
      expectEvent(await cutLink(B.name), 'inflict', `link of ${B.name}`, false);
      if (healBy === 'restoreLink') {
        expectEvent(await restoreLink(B.name), 'heal', `link of ${B.name}`, true);
        expectEvent(await restoreLink(B.name), 'heal', `link of ${B.name}`, false);
      } else {
        expect(await labUpCli()).toContain(`host ${B.name}: link was cut, plugged back in`);
      }
      await expectReach(A, B, true);
      await expectReach(B, C, true);
      expect(await downNow()).toEqual([]);
    }
  }, 120_000);

  it('only between two hosts: both ways cut, each still reaches the third; restored by restoreLink, then by lab up', async () => {
    for (const healBy of ['restoreLink', 'lab up'] as const) {
      expectEvent(await cutLink(A.name, C.name), 'inflict', `link ${A.name} <-> ${C.name}`, true);
      await expectReach(A, C, false);
      await expectReach(C, A, false);
      await expectReach(A, B, true);
      await expectReach(C, B, true);
      expect(await downNow()).toEqual([`link ${A.name} <-> ${C.name}`]);
      expect((await labStatus()).hosts.find((h) => h.name === C.name)?.cutFrom).toEqual([A.name]);
      if (healBy === 'restoreLink') {
        // Either way round names the same path.
        expectEvent(await restoreLink(C.name, A.name), 'heal', `link ${C.name} <-> ${A.name}`, true);
      } else {
        expect(await labUpCli()).toContain(`host ${A.name}: partition from ${C.address} removed`);
      }
      await expectReach(A, C, true);
      await expectReach(C, A, true);
      expect(await downNow()).toEqual([]);
    }
  }, 120_000);
});

describe('a service stopped', () => {
  it('Placement: its port refuses; started again on its SQLite file, providers and allocations kept (startService, then lab up)', async () => {
    const vm = await createLabVm({ name: VM, host: B.name, memoryMiB: 128, rateMiBps: 0 });
    const before = await placementStatus();
    if (!before.running) throw new Error('placement is not running');
    const placement = new PlacementClient({ baseUrl: before.url });
    const providers = (await placement.listResourceProviders()).map((p) => p.uuid).sort();
    expect(providers).toEqual(expect.arrayContaining(lab.hosts.map((h) => h.uuid))); // other tests may have added some
    const allocations = await placement.getAllocations(vm.uuid);
    expect(Object.keys(allocations.allocations)).toEqual([B.uuid]);

    for (const healBy of ['startService', 'lab up'] as const) {
      const r = await ferry('lab', 'fault', 'stop', 'placement');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/\tinflict\tplacement: SIGKILL pid \d+/);
      expect(await tcpAccepts(before.port)).toBe(false);
      expect(await downNow()).toEqual(['placement']);
      if (healBy === 'startService') {
        expectEvent(await startService('placement'), 'heal', 'placement', true);
        expectEvent(await startService('placement'), 'heal', 'placement', false);
      } else {
        expect(await labUpCli()).toContain(`placement started at ${before.url}`);
      }
      expect(await tcpAccepts(before.port)).toBe(true);
      expect((await placement.listResourceProviders()).map((p) => p.uuid).sort()).toEqual(providers);
      expect((await placement.getAllocations(vm.uuid)).allocations).toEqual(allocations.allocations);
      expect(await downNow()).toEqual([]);
    }
    await deleteLabVm(VM);
  }, 180_000);

  it('Temporal: SIGKILLed, its port refuses; started again on its SQLite file, workflows started before it died complete after (startService, then lab up)', async () => {
    const t = await temporalStatus();
    if (!t.running) throw new Error('temporal is not running');
    const taskQueue = `lab-faults-${randomUUID()}`;
    const started: Array<{ workflowId: string; runId: string; name: string }> = [];

    for (const healBy of ['startService', 'lab up'] as const) {
      // A workflow with no worker yet: all it has is its history in the server's database.
      const connection = await Connection.connect({ address: t.address });
      const client = new Client({ connection });
      const name = `before-${healBy.replace(' ', '-')}`;
      const handle = await client.workflow.start(hello, { taskQueue, workflowId: `lab-faults-${randomUUID()}`, args: [name] });
      started.push({ workflowId: handle.workflowId, runId: handle.firstExecutionRunId, name });
      await connection.close();

      const killed = await stopService('temporal');
      expectEvent(killed, 'inflict', 'temporal', true);
      expect(await tcpAccepts(t.port)).toBe(false);
      expect(await downNow()).toEqual(['temporal']);
      if (healBy === 'startService') expectEvent(await startService('temporal'), 'heal', 'temporal', true);
      else expect(await labUpCli()).toContain(`temporal started at ${t.address}`);
      expect(await tcpAccepts(t.port)).toBe(true);
      expect(await downNow()).toEqual([]);

      const after = await Connection.connect({ address: t.address });
      try {
        const c = new Client({ connection: after });
        for (const w of started) {
          const d = await c.workflow.getHandle(w.workflowId).describe();
          expect(d).toMatchObject({ runId: w.runId, status: { name: 'RUNNING' } });
          const history = await c.workflow.getHandle(w.workflowId).fetchHistory();
          expect(history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name).toBe('hello');
        }
        const sa = await after.operatorService.listSearchAttributes({ namespace: 'default' });
        for (const k of ferrySearchAttributes) expect(sa.customAttributes?.[k.name], k.name).toBeDefined();
      } finally {
        await after.close();
      }
    }

    // A worker now: both workflows, started before a crash of the server, run to completion.
    try {
      Runtime.install({ logger: new DefaultLogger('WARN') });
    } catch {
      /* installed already in this process: keep it */
    }
    const native = await NativeConnection.connect({ address: t.address });
    const connection = await Connection.connect({ address: t.address });
    try {
      const worker = await Worker.create({
        connection: native,
        taskQueue,
        workflowsPath: path.join(__dirname, 'fixtures', 'hello-workflow.ts'),
        activities,
      });
      const client = new Client({ connection });
      const results = await worker.runUntil(Promise.all(started.map((w) => client.workflow.getHandle(w.workflowId).result())));
      expect(results).toEqual(started.map((w) => `hello, ${w.name}`));
    } finally {
      await connection.close();
      await native.close();
    }
  }, 300_000);
});

describe('after every fault', () => {
  it('the lab is whole, and the journal holds each fault inflicted and healed, with its time', async () => {
    expect(await downNow()).toEqual([]);
    const journal = faultJournal();
    const faults: LabFault[] = [
      { kind: 'daemon', host: A.name, daemon: 'libvirtd' },
      { kind: 'daemon', host: B.name, daemon: 'virtlogd' },
      { kind: 'link', host: B.name, peer: null },
      { kind: 'link', host: A.name, peer: C.name },
      { kind: 'service', service: 'placement' },
      { kind: 'service', service: 'temporal' },
    ];
    for (const f of faults) {
      const what = faultKey(f);
      const events = journal.filter((e) => faultKey(e.fault) === what && e.changed);
      expect(events.some((e) => e.action === 'inflict'), what).toBe(true);
      expect(events.some((e) => e.action === 'heal' && e.by === 'fault'), what).toBe(true);
      expect(events.some((e) => e.action === 'heal' && e.by === 'lab up'), what).toBe(true);
    }
    const r = await ferry('lab', 'fault', 'list', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ down: [] });
  });
});
