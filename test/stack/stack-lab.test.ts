/**
 * The core cases through the production-shaped stack (issue 9 §1): its two workers are given the
 * lab's hosts (the lab's inventory as FERRY_HOSTS_FILE) and the lab's Placement, where the lab's
 * guests hold their allocations; everything else is the stack's (Temporal server on PostgreSQL,
 * mTLS). Through Temporal only:
 *   - a pre-copy and a post-copy migration, then the audit over visibility: `ferry history` on the
 *     stack's profile and `temporal workflow list --query` with the same profile;
 *   - the worker running a migration's watch SIGKILLed mid-migration: the other worker finishes it;
 *   - the Temporal server SIGKILLed mid-migration and started again: the migration completes.
 * Each ends with the lab's invariants (one running copy on the destination, its allocation only
 * there, no migration consumer left) and the guest alive.
 *
 *   npm run test:stack   (the lab comes up if it is down)
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadClientConfig } from '../../client/config';
import { FerryClient } from '../../client/ferry-client';
import { labInventoryOf } from '../../lab/inventory';
import { setLinkCap } from '../../lab/network';
import { startPlacement } from '../../lab/placement';
import { installedTemporalCli } from '../../lab/temporal';
import type { LabState } from '../../lab/state';
import { createLabVm, deleteLabVm } from '../../lab/vms';
import { clientEnvironment, profileEnvironment, withoutTemporalSettings } from '../../stack/client-config';
import { ensureTemporalServer } from '../../stack/server-build';
import { stackDown, stackUp, type StackStatus, type StackUpOptions } from '../../stack/stack';
import { killServer } from '../../stack/temporal-server';
import { stopWorker, workerSpecs } from '../../stack/workers';
import { TASK_QUEUE } from '../../workflows/definitions';
import type { Outcome } from '../../model/types';
import { ensureTestLab } from '../integration/lab';
import { expectAliveOn } from '../integration/support/guest-alive';
import { expectInvariants } from '../integration/support/workflow-lab';

const execFileAsync = promisify(execFile);
const log = (line: string) => process.stderr.write(`[stack-lab] ${line}\n`);
const VMS = ['sl-pre', 'sl-post', 'sl-kill', 'sl-restart'];
let lab: LabState;
let A: string;
let B: string;
let status: StackStatus;
let options: StackUpOptions;
let client: FerryClient;
let scratch: string;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  lab = await ensureTestLab();
  [A, B] = [lab.hosts[0]!.name, lab.hosts[1]!.name];
  for (const vm of VMS) await deleteLabVm(vm);
  await ensureTemporalServer(log);
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-stack-lab-'));
  const hostsFile = path.join(scratch, 'hosts.json');
  fs.writeFileSync(hostsFile, JSON.stringify({ hosts: labInventoryOf(lab.hosts) }, null, 2));
  options = { hostsFile, placementUrl: (await startPlacement()).url };
  // Workers left from another configuration would be reused as they are: these start with the lab's hosts.
  for (const spec of workerSpecs()) await stopWorker(spec);
  status = await stackUp(log, options);
  client = await FerryClient.connect(loadClientConfig(TASK_QUEUE, { ...withoutTemporalSettings(process.env), ...clientEnvironment(status.tls) }));
  // The workers were just started: they poll once they have connected (seconds).
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      await client.ensureWorker();
      break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(1_000);
    }
  }
}, 45 * 60_000);

afterAll(async () => {
  await setLinkCap(A, null);
  await client?.close();
  await stackDown(() => undefined);
  for (const vm of VMS) await deleteLabVm(vm);
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
}, 180_000);

/** The migration's result, asking again while the server is away. */
async function resultOf(workflowId: string): Promise<Outcome> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      return await client.result(workflowId);
    } catch (err) {
      if ((err as Error).name === 'WorkflowFailedError' || Date.now() > deadline) throw err;
      await sleep(1_000);
    }
  }
}

async function waitForPhase(workflowId: string, phase: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while ((await client.progress(workflowId).catch(() => undefined))?.phase !== phase) {
    if (Date.now() > deadline) throw new Error(`${workflowId} never reached ${phase}`);
    await sleep(100);
  }
}

/** A guest whose pre-copy lasts seconds at the given bandwidth: room for a fault mid-migration. */
const slowGuest = (name: string) => createLabVm({ name, host: A, memoryMiB: 256, rateMiBps: 32, wssMiB: 96 });
const SLOW = { bandwidthMiBps: 12, policy: { postcopy: { allowed: false } } };

describe('the core cases through the production-shaped stack, on the lab', () => {
  it('pre-copy and post-copy complete, and the audit reads them back over PostgreSQL visibility', async () => {
    const pre = await createLabVm({ name: 'sl-pre', host: A, memoryMiB: 128, rateMiBps: 0 });
    const o1 = await (await client.startMigration({ vm: pre.name, destination: B }, pre.uuid)).result();
    expect(o1.outcome).toBe('completed');
    expect(o1.mode).toBe('precopy');
    await expectInvariants(pre, B, o1.migrationId);
    await expectAliveOn(B, pre.name);

    const post = await createLabVm({ name: 'sl-post', host: A, memoryMiB: 128, rateMiBps: 'max', wssMiB: 16 });
    await setLinkCap(A, 200);
    const o2 = await (await client.startMigration({ vm: post.name, destination: B, bandwidthMiBps: 40 }, post.uuid)).result();
    await setLinkCap(A, null);
    expect(o2.outcome).toBe('completed');
    expect(o2.mode).toBe('postcopy');
    await expectInvariants(post, B, o2.migrationId);
    await expectAliveOn(B, post.name);

    // The audit, as an operator runs it on the stack's profile: ferry's CLI and Temporal's.
    const profile = { ...withoutTemporalSettings(process.env), ...profileEnvironment(status.clientConfig.file) };
    const history = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [path.join(__dirname, '../../bin/ferry'), 'history', pre.name, '--json'], { env: profile });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d));
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(history.code, history.stderr).toBe(0);
    expect((JSON.parse(history.stdout) as Array<{ workflowId: string; status: string }>)[0]).toMatchObject({ workflowId: `migrate-${pre.uuid}`, status: 'completed' });
    // Visibility is written just after the close: ask again for a few seconds.
    let rows: Array<{ execution: { workflowId: string } }> = [];
    for (let i = 0; i < 20 && rows.length === 0; i += 1) {
      if (i > 0) await sleep(500);
      const listed = await execFileAsync(installedTemporalCli(), [
        'workflow', 'list', '--query', `FerryVmUuid = '${post.uuid}' AND ExecutionStatus = 'Completed'`, '--output', 'jsonl',
      ], { env: profile });
      rows = listed.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { execution: { workflowId: string } });
    }
    expect(rows.map((r) => r.execution.workflowId)).toEqual([`migrate-${post.uuid}`]);
  }, 300_000);

  it('the worker running the watch is SIGKILLed mid-migration: the other worker finishes it', async () => {
    const vm = await slowGuest('sl-kill');
    const handle = await client.startMigration({ vm: vm.name, destination: B, ...SLOW }, vm.uuid);
    await waitForPhase(handle.workflowId, 'pre-copy');
    // Who holds the watch: its activity's last worker identity, "<pid>@<host>".
    let victim: number | undefined;
    const deadline = Date.now() + 60_000;
    while (victim === undefined && Date.now() < deadline) {
      const pending = (await handle.describe()).raw.pendingActivities ?? [];
      const identity = pending.find((p) => p.activityType?.name === 'watchMigration')?.lastWorkerIdentity;
      if (identity) victim = Number(identity.split('@')[0]);
      else await sleep(200);
    }
    const workers = status.workers.map((w) => w.pid);
    expect(workers, 'the watch runs on one of the stack workers').toContain(victim);
    process.kill(victim!, 'SIGKILL');
    const o = await resultOf(handle.workflowId);
    expect(o.outcome).toBe('completed');
    await expectInvariants(vm, B, o.migrationId);
    await expectAliveOn(B, vm.name);
    status = await stackUp(log, options); // the killed worker back, for what follows
  }, 420_000);

  it('the Temporal server SIGKILLed mid-migration and started again: the migration completes', async () => {
    const vm = await slowGuest('sl-restart');
    const handle = await client.startMigration({ vm: vm.name, destination: B, ...SLOW }, vm.uuid);
    await waitForPhase(handle.workflowId, 'pre-copy');
    const killed = await killServer();
    expect(killed).toBe(status.temporal.pid);
    await sleep(3_000);
    status = await stackUp(log, options); // starts only what is down: the server
    expect(status.temporal.pid).not.toBe(killed);
    const o = await resultOf(handle.workflowId);
    expect(o.outcome).toBe('completed');
    await expectInvariants(vm, B, o.migrationId);
    await expectAliveOn(B, vm.name);
  }, 420_000);
});
