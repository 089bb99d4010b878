/**
 * The operator's side needs only Temporal: the CLI runs in a process that cannot reach any
 * libvirt daemon nor read any lab file (its own mount namespace, every lab directory covered by
 * an empty tmpfs), with only TEMPORAL_ADDRESS and FERRY_TASK_QUEUE set, and migrates,
 * inspects and steers real migrations on the lab through a real worker.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../client/exit-codes';
import type { FerryClient } from '../../client/ferry-client';
import { hostPath } from '../../lab/hosts';
import { labStateFile } from '../../lab/state';
import { waitFor } from '../../lab/proc';
import type { LabState, LabVm } from '../../lab/state';
import { createLabVm, deleteLabVm } from '../../lab/vms';
import { ensureTestLab } from './lab';
import { expectAliveOn } from './support/guest-alive';
import { hiddenPaths, runFerry, runIsolated, type CliRun } from './support/cli';
import { expectInvariants, itClient, labTemporalAddress, startWorkerProcess, type WorkerProcess } from './support/workflow-lab';

const TASK_QUEUE = 'ferry-it-cli';
const VMS = ['cli-small', 'cli-hold'];
let lab: LabState;
let A: string;
let B: string;
let worker: WorkerProcess;
let client: FerryClient;
let env: Record<string, string>;
/** The migration a test holds running, ended after the test if it is still running. */
let held: string | undefined;

beforeAll(async () => {
  lab = await ensureTestLab();
  [A, B] = [lab.hosts[0]!.name, lab.hosts[1]!.name];
  for (const vm of VMS) await deleteLabVm(vm);
  worker = await startWorkerProcess('cli-front-end', { taskQueue: TASK_QUEUE });
  client = await itClient(TASK_QUEUE);
  env = { TEMPORAL_ADDRESS: await labTemporalAddress(), FERRY_TASK_QUEUE: TASK_QUEUE };
  // A run that was interrupted may have left a migration of these names running: a name would resolve to it.
  for (const name of VMS) for (const m of await client.list({ vm: { name }, status: 'running' })) await endIfRunning(m.workflowId);
});
afterEach(async () => {
  await endIfRunning(held);
  held = undefined;
});
afterAll(async () => {
  await client?.close();
  await worker?.kill();
  for (const vm of VMS) await deleteLabVm(vm);
});

/** `ferry <args>` from the operator's machine: Temporal only. */
const ferry = (...args: string[]) => runFerry(args, { env, isolated: true, timeoutMs: 240_000 });
const expectExit = (r: CliRun, code: number) => expect(r.code, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(code);

/** A held migration: the guest dirties 4 MiB/s of a 32 MiB working set, the cap is 1 MiB/s, nothing automatic finishes it. */
const HOLD_POLICY = { postcopy: { afterIteration: 50 }, stall: { windowMs: 600_000 }, completion: { minSeconds: 3_600 } };

/** A migration a failed test left running would hold its VM: end it (test cleanup only). */
async function endIfRunning(id: string | undefined): Promise<void> {
  if (!id) return;
  const d = await client.describe(id).catch(() => undefined);
  if (d?.status.name === 'RUNNING') await client.handle(id).terminate('test cleanup');
}

async function waitForPrecopy(id: string): Promise<void> {
  await waitFor(`${id} to copy memory`, async () => {
    const p = await client.progress(id);
    return p.phase === 'pre-copy' && p.dataTotal > 0;
  }, { timeoutMs: 120_000, intervalMs: 500 });
}

describe('the CLI from a machine that has only Temporal', () => {
  it('really cannot reach the lab: its directories are empty and no libvirt socket is there', async () => {
    const socket = hostPath(A, '/run/libvirt/libvirt-sock');
    const probe = await runIsolated(['sh', '-c', `ls -A ${hiddenPaths().join(' ')}; test -e ${socket} && echo SOCKET; test -e ${labStateFile()} && echo STATE; true`], { isolated: true });
    expect(probe.code).toBe(0);
    expect(probe.stdout.split('\n').filter((l) => l !== '' && !l.endsWith(':'))).toEqual([]);
    expect(hiddenPaths()).toContain(lab.hosts[0]!.dir.replace(/\/hosts\/.*$/, ''));
  });

  it('migrate (waits, progress on stderr, outcome on stdout), then status, list and history of it', async () => {
    const vm: LabVm = await createLabVm({ name: 'cli-small', host: A, memoryMiB: 128, rateMiBps: 0 });
    const id = `migrate-${vm.uuid}`;
    const m = await ferry('migrate', 'cli-small', '--to', B);
    expectExit(m, EXIT.ok);
    // "on <host>" when a worker located the VM first; a name Temporal saw migrate before starts without (client/migration-start.ts).
    expect(m.stderr).toMatch(new RegExp(`migration ${id} started: cli-small( on ${A})? -> ${B}`));
    expect(m.stdout).toMatch(new RegExp(`^completed: cli-small ${A} -> ${B} \\(precopy\\)`));
    await expectInvariants(vm, B);
    await expectAliveOn(B, vm.name);

    const s = await ferry('status', 'cli-small', '--output', 'json');
    expectExit(s, EXIT.ok);
    expect(s.json()).toMatchObject({ workflowId: id, status: 'completed', vm: 'cli-small', vmUuid: vm.uuid, source: A, destination: B, outcome: { outcome: 'completed' } });
    const st = await ferry('status', vm.uuid);
    expectExit(st, EXIT.ok);
    expect(st.stdout).toContain(`migration  ${id} (run `);
    expect(st.stdout).toContain(`completed: cli-small ${A} -> ${B}`);

    const l = await ferry('list', '--vm', 'cli-small', '--since', '30m');
    expectExit(l, EXIT.ok);
    const [header, ...rows] = l.stdout.trim().split('\n');
    expect(header!.split(/\s{2,}/)).toEqual(['STARTED', 'MIGRATION', 'RUN', 'STATUS', 'VM', 'SOURCE -> DESTINATION', 'PHASE', 'OUTCOME']);
    expect(rows.filter((r) => r.includes(id))).toHaveLength(1);
    expect(rows.find((r) => r.includes(id))).toMatch(new RegExp(`completed\\s+cli-small\\s+${A} -> ${B}\\s+done\\s+completed`));
    const lj = await ferry('list', '--host', B, '--status', 'completed', '--limit', '5', '--json');
    expectExit(lj, EXIT.ok);
    expect(lj.json<Array<{ workflowId: string; runId: string }>>().map((x) => x.workflowId)).toContain(id);

    const h = await ferry('history', 'cli-small', '-o', 'json');
    expectExit(h, EXIT.ok);
    expect(h.json()[0]).toMatchObject({ workflowId: id, source: A, destination: B, status: 'completed', outcome: 'completed' });
    await deleteLabVm(vm.name);
  }, 300_000);

  it('set and force-complete a running migration (by name and by UUID): it finishes in post-copy', async () => {
    const vm = await createLabVm({ name: 'cli-hold', host: A, memoryMiB: 128, rateMiBps: 4, wssMiB: 32 });
    const start = await ferry('migrate', 'cli-hold', '--to', B, '--bandwidth', '1', '--policy', JSON.stringify(HOLD_POLICY), '--detach', '--output', 'json');
    expectExit(start, EXIT.ok);
    const id = (held = start.json<{ workflowId: string }>().workflowId);
    expect(id).toBe(`migrate-${vm.uuid}`);
    expect(start.json()).toMatchObject({ vm: { name: 'cli-hold', uuid: vm.uuid, host: A } });

    const twice = await ferry('migrate', 'cli-hold', '--to', B);
    expectExit(twice, EXIT.refused);
    expect(twice.stderr).toContain(`a migration of this VM is already running: ${id}`);

    await waitForPrecopy(id);
    const running = await ferry('status', 'cli-hold');
    expectExit(running, EXIT.ok);
    expect(running.stdout).toMatch(/status\s+running/);
    expect(running.stdout).toMatch(/progress\s+pre-copy/);

    const set = await ferry('set', 'cli-hold', '--bandwidth', '2', '--max-downtime', '300');
    expectExit(set, EXIT.ok);
    expect(set.stdout).toContain(`${id}: max downtime will be 300 ms`);
    expect(set.stdout).toContain(`${id}: bandwidth will be 2 MiB/s`);
    await waitFor('the new bandwidth to be applied', async () => (await client.decisions(id)).some((d) => d.action === 'set-bandwidth'), {
      timeoutMs: 60_000,
      intervalMs: 500,
    });

    const fc = await ferry('force-complete', vm.uuid, '-o', 'json');
    expectExit(fc, EXIT.ok);
    expect(fc.json()).toMatchObject({ workflowId: id, results: [{ update: 'forceComplete', accepted: true, message: expect.stringContaining('post-copy') }] });

    const o = await client.result(id);
    expect(o.outcome).toBe('completed');
    expect(o.mode).toBe('postcopy');
    expect(o.decisions.map((d) => d.action)).toEqual(expect.arrayContaining(['set-bandwidth', 'start-postcopy']));
    await expectInvariants(vm, B, o.migrationId);
  }, 300_000);

  it('abort a running migration by its id: it rolls back, the VM stays on its source', async () => {
    await deleteLabVm('cli-hold');
    const vm = await createLabVm({ name: 'cli-hold', host: A, memoryMiB: 128, rateMiBps: 4, wssMiB: 32 });
    const policy = { ...HOLD_POLICY, postcopy: { allowed: false }, pause: { allowed: false } };
    const start = await ferry('migrate', 'cli-hold', '--to', B, '--bandwidth', '1', '--policy', JSON.stringify(policy), '--detach');
    expectExit(start, EXIT.ok);
    const id = (held = start.stdout.trim());
    expect(id).toBe(`migrate-${vm.uuid}`);
    await waitForPrecopy(id);

    const ab = await ferry('abort', id, '--reason', 'front-end test');
    expectExit(ab, EXIT.ok);
    expect(ab.stdout).toContain(`${id}: aborting: ferry rolls the migration back (front-end test)`);
    const o = await client.result(id);
    expect(o.outcome).toBe('rolled_back');

    const s = await ferry('status', 'cli-hold', '--json');
    expectExit(s, EXIT.ok);
    expect(s.json()).toMatchObject({ workflowId: id, status: 'completed', outcome: { outcome: 'rolled_back' } });
    const h = await ferry('history', vm.uuid);
    expectExit(h, EXIT.ok);
    expect(h.stdout.trim().split('\n').slice(1).map((r) => r.split(/\s{2,}/).slice(-3))).toEqual([[`${A} -> ${B}`, 'completed', 'rolled_back']]);
    await expectInvariants(vm, A, o.migrationId);
    await expectAliveOn(A, vm.name);
  }, 300_000);
});
