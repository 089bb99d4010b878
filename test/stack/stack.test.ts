/**
 * The production-shaped stack (stack/), end to end on this machine: `ferry stack up` builds (once)
 * and starts the official Temporal server on PostgreSQL with mTLS, Placement and two ferry workers;
 * then what an operator relies on is checked through Temporal only, the server is crashed and
 * restarted by its PID, and `ferry stack down` must leave nothing running.
 *
 * No libvirt here: the workers' one inventory host has no daemon, so the workflows run are the
 * ones that need none (locateVm, and a migration of an unknown VM, which fails in its pre-checks).
 *
 *   npm run test:stack
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Connection, WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadClientConfig } from '../../client/config';
import { FerryClient } from '../../client/ferry-client';
import { ferrySearchAttributes } from '../../model/search-attributes';
import { INDEXED_VALUE_TYPE } from '../../model/search-attribute-registration';
import { clientEnvironment, profileEnvironment, withoutTemporalSettings } from '../../stack/client-config';
import { ensureTemporalServer } from '../../stack/server-build';
import { killServer, mtlsConnectionOptions, STACK_ADDRESS } from '../../stack/temporal-server';
import { stackDown, stackLeftovers, stackStatus, stackUp, type StackStatus } from '../../stack/stack';
import { STACK_NAMESPACE, STACK_TASK_QUEUE, STACK_WORKERS } from '../../stack/versions';
import { LIVE_MIGRATION_WORKFLOW_TYPE, TASK_QUEUE } from '../../workflows/definitions';

const root = path.resolve(__dirname, '../..');
const TASK_QUEUE_KIND_NORMAL = 1;
const TASK_QUEUE_TYPE_WORKFLOW = 1;
const TASK_QUEUE_TYPE_ACTIVITY = 2;

let status: StackStatus;
const log = (line: string) => process.stderr.write(`[stack] ${line}\n`);

/** `ferry ARGS` as an operator runs it, configured by the stack's profile only. */
function ferry(args: string[], temporalEnv: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'bin', 'ferry'), ...args], {
      cwd: root,
      env: { ...withoutTemporalSettings(process.env), ...temporalEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function pollerIdentities(conn: Connection, taskQueueType: number): Promise<string[]> {
  const r = await conn.workflowService.describeTaskQueue({
    namespace: STACK_NAMESPACE,
    taskQueue: { name: STACK_TASK_QUEUE, kind: TASK_QUEUE_KIND_NORMAL },
    taskQueueType,
  });
  return (r.pollers ?? []).map((p) => p.identity ?? '').sort();
}

/** Waits until both workers poll for workflow and activity tasks; returns their identities. */
async function waitForPollers(conn: Connection, timeoutMs = 90_000): Promise<{ workflow: string[]; activity: string[] }> {
  const deadline = Date.now() + timeoutMs;
  let last = { workflow: [] as string[], activity: [] as string[] };
  while (Date.now() < deadline) {
    try {
      last = { workflow: await pollerIdentities(conn, TASK_QUEUE_TYPE_WORKFLOW), activity: await pollerIdentities(conn, TASK_QUEUE_TYPE_ACTIVITY) };
      if (last.workflow.length >= STACK_WORKERS && last.activity.length >= STACK_WORKERS) return last;
    } catch {
      /* the server may be coming back */
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
  throw new Error(`not ${STACK_WORKERS} pollers on task queue ${STACK_TASK_QUEUE} within ${timeoutMs} ms: ${JSON.stringify(last)}`);
}

describe('the production-shaped stack (Temporal server on PostgreSQL, mTLS, two workers)', () => {
  beforeAll(async () => {
    // A cold build of the server takes minutes: done here once, then cached under .tools/.
    await ensureTemporalServer(log);
    status = await stackUp(log);
  }, 45 * 60_000);

  afterAll(async () => {
    // Whatever the tests did, the stack goes down (the last test checks that it did so cleanly).
    await stackDown(() => undefined);
  }, 120_000);

  it('refuses a plain-text connection, and a TLS one without a client certificate', async () => {
    const plain = await Connection.connect({ address: STACK_ADDRESS, connectTimeout: 3_000 }).then(
      async (c) => {
        try {
          await c.workflowService.getSystemInfo({});
          return 'answered';
        } finally {
          await c.close().catch(() => undefined);
        }
      },
      (err: Error) => `refused: ${err.message}`,
    );
    expect(plain).toMatch(/^refused/);

    const { tls } = mtlsConnectionOptions(status.tls);
    const noClientCert = await Connection.connect({
      address: STACK_ADDRESS,
      connectTimeout: 3_000,
      tls: { serverNameOverride: tls.serverNameOverride, serverRootCACertificate: tls.serverRootCACertificate },
    }).then(
      async (c) => {
        try {
          await c.workflowService.getSystemInfo({});
          return 'answered';
        } finally {
          await c.close().catch(() => undefined);
        }
      },
      (err: Error) => `refused: ${err.message}`,
    );
    expect(noClientCert).toMatch(/^refused/);
  });

  it('answers an mTLS client, with ferry\'s search attributes registered in the namespace', async () => {
    const conn = await Connection.connect(mtlsConnectionOptions(status.tls));
    try {
      const info = await conn.workflowService.getSystemInfo({});
      expect(info.serverVersion).toBe(status.version);
      const listed = (await conn.operatorService.listSearchAttributes({ namespace: STACK_NAMESPACE })).customAttributes ?? {};
      for (const k of ferrySearchAttributes) expect({ name: k.name, type: listed[k.name] }).toEqual({ name: k.name, type: INDEXED_VALUE_TYPE[k.type] });
    } finally {
      await conn.close();
    }
    // The same through the CLI on the stack's profile: verify only, adds nothing.
    const check = await ferry(['setup', '--check', '--json'], profileEnvironment(status.clientConfig.file));
    expect(check.code, check.stderr).toBe(0);
    expect(JSON.parse(check.stdout)).toMatchObject({ address: STACK_ADDRESS, added: [] });
  });

  it('has both workers polling the task queue, one configured by the profile, one by TEMPORAL_* variables', async () => {
    expect(status.workers.map((w) => w.configuredBy).sort()).toEqual(['TEMPORAL_* variables', 'profile']);
    expect(status.workers.every((w) => w.pid !== null)).toBe(true);
    const conn = await Connection.connect(mtlsConnectionOptions(status.tls));
    try {
      const pollers = await waitForPollers(conn);
      // The SDK's identity is "<pid>@<host>": the pollers are the stack's two worker processes.
      const pids = status.workers.map((w) => String(w.pid)).sort();
      expect(pollers.workflow.map((id) => id.split('@')[0]).sort()).toEqual(pids);
      expect(pollers.activity.map((id) => id.split('@')[0]).sort()).toEqual(pids);
    } finally {
      await conn.close();
    }
  }, 120_000);

  it('runs workflows through the stack: locateVm completes, a migration of an unknown VM fails in its pre-checks, both visible in PostgreSQL visibility', async () => {
    const env = clientEnvironment(status.tls);
    const client = await FerryClient.connect(loadClientConfig(TASK_QUEUE, { ...withoutTemporalSettings(process.env), ...env }));
    const vmUuid = randomUUID();
    try {
      await client.ensureWorker();
      const located = await client.locateVm(vmUuid);
      expect(located.found).toEqual([]);
      expect(located.hosts).toEqual(['no-libvirt']);
      expect(located.unreachable.map((u) => u.host)).toEqual(['no-libvirt']);

      const handle = await client.startMigration({ vm: vmUuid }, vmUuid);
      expect(handle.workflowId).toBe(`migrate-${vmUuid}`);
      const failure = await handle.result().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      // Failed where it should: the source check found no host that answers (no libvirt here).
      const causes: string[] = [];
      for (let e: unknown = failure; e instanceof Error; e = (e as Error & { cause?: unknown }).cause) causes.push(e.message);
      expect(causes.join(' <- ')).toMatch(/VM '[0-9a-f-]+' was not found on the hosts that answered; these did not: no-libvirt/);
      const description = await handle.describe();
      expect(description.type).toBe(LIVE_MIGRATION_WORKFLOW_TYPE);
      expect(description.status.name).toBe('FAILED');
    } finally {
      await client.close();
    }

    // `ferry history` (a visibility query on FerryVmUuid) and `ferry list` through the CLI, on the profile.
    const profile = profileEnvironment(status.clientConfig.file);
    const history = await ferry(['history', vmUuid, '--json'], profile);
    expect(history.code, history.stderr).toBe(0);
    const rows = JSON.parse(history.stdout) as Array<Record<string, unknown>>;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ workflowId: `migrate-${vmUuid}`, status: 'failed' });

    const list = await ferry(['list', '--status', 'failed', '--json'], profile);
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as Array<{ workflowId: string }>).map((r) => r.workflowId)).toContain(`migrate-${vmUuid}`);
  }, 180_000);

  it('survives a crash of the Temporal server: killed by PID, started again, the client and both workers reconnect', async () => {
    const conn = await Connection.connect(mtlsConnectionOptions(status.tls));
    try {
      await conn.workflowService.getSystemInfo({});
      const killed = await killServer();
      expect(killed).toBe(status.temporal.pid);
      const down = await conn.workflowService.getSystemInfo({}).then(() => 'answered', () => 'unavailable');
      expect(down).toBe('unavailable');

      status = await stackUp(log); // idempotent: starts only what is down
      expect(status.temporal.pid).not.toBe(killed);
      expect(status.postgres.pid).not.toBeNull();

      // The connection opened before the crash answers again: the SDK reconnects by itself.
      const deadline = Date.now() + 60_000;
      let answered = false;
      while (!answered && Date.now() < deadline) {
        answered = await conn.workflowService.getSystemInfo({}).then(() => true, () => false);
        if (!answered) await new Promise((r) => setTimeout(r, 500));
      }
      expect(answered).toBe(true);
      await waitForPollers(conn);

      const client = await FerryClient.connect(loadClientConfig(TASK_QUEUE, { ...withoutTemporalSettings(process.env), ...clientEnvironment(status.tls) }));
      try {
        expect((await client.locateVm(randomUUID())).hosts).toEqual(['no-libvirt']);
      } finally {
        await client.close();
      }
    } finally {
      await conn.close();
    }
  }, 240_000);

  it('comes down by PID and leaves nothing running or listening', async () => {
    const before = stackStatus();
    const pids = [before.temporal.pid, before.postgres.pid, before.placement.pid, ...before.workers.map((w) => w.pid)].filter((p): p is number => p !== null);
    expect(pids).toHaveLength(3 + STACK_WORKERS);
    const down = await ferry(['stack', 'down', '--json'], {});
    expect(down.code, down.stderr).toBe(0);
    expect(await stackLeftovers(pids)).toEqual([]);
    const after = stackStatus();
    expect([after.temporal.pid, after.postgres.pid, after.placement.pid, ...after.workers.map((w) => w.pid)]).toEqual(Array(3 + STACK_WORKERS).fill(null));
    expect(fs.existsSync(path.join(before.dir, 'postgres', 'data', 'PG_VERSION'))).toBe(true); // the data stays
  }, 120_000);
});
