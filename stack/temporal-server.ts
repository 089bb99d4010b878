/**
 * The stack's Temporal server process (all four services in one process, as the official image
 * runs it): started on the generated config, answered over mTLS, stopped or killed by its PID,
 * and only while that PID is still our server on our config.
 */
import fs from 'node:fs';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { assertPortFree, portIsFree } from '../lab/ports';
import { isAlive, readPid, sleep, startDaemon, stopByPidFile } from '../lab/proc';
import type { StackTls } from './certs';
import { stackFiles } from './paths';
import { STACK_NAMESPACE, STACK_PORTS, STACK_TLS_SERVER_NAME } from './versions';

export const STACK_ADDRESS = `127.0.0.1:${STACK_PORTS.frontend}`;

/** Connection options for the stack's frontend with the stack's client certificate. */
export function mtlsConnectionOptions(tls: StackTls) {
  return {
    address: STACK_ADDRESS,
    tls: {
      serverNameOverride: STACK_TLS_SERVER_NAME,
      serverRootCACertificate: fs.readFileSync(tls.caCert),
      clientCertPair: { crt: fs.readFileSync(tls.clientCert), key: fs.readFileSync(tls.clientKey) },
    },
  };
}

/** Our server's PID: recorded by us, alive, and running our config file. */
export function serverPid(): number | undefined {
  const f = stackFiles();
  const pid = readPid(f.serverPid);
  if (pid === undefined || !isAlive(pid)) return undefined;
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(f.serverConfig) ? pid : undefined;
  } catch {
    return undefined;
  }
}

function logTail(bytes = 3000): string {
  try {
    const buf = fs.readFileSync(stackFiles().serverLog);
    return buf.subarray(Math.max(0, buf.length - bytes)).toString('utf8');
  } catch {
    return '(no log)';
  }
}

/** Starts the server unless ours runs; waits until the frontend answers over mTLS. */
export async function startServer(serverBinary: string, tls: StackTls, timeoutMs = 120_000): Promise<{ pid: number; reused: boolean }> {
  const f = stackFiles();
  const running = serverPid();
  if (running !== undefined) {
    await waitUntilAnswering(running, tls, timeoutMs);
    return { pid: running, reused: true };
  }
  for (const [name, port] of Object.entries(STACK_PORTS)) {
    if (name !== 'postgres') await assertPortFree(port, `the stack's Temporal server (${name})`, 'STACK_PORTS in stack/versions.ts');
  }
  const args = ['--config-file', f.serverConfig, '--allow-no-auth', 'start'];
  fs.appendFileSync(f.serverLog, `\n--- ${new Date().toISOString()} ${serverBinary} ${args.join(' ')}\n`);
  const pid = startDaemon(serverBinary, args, { logFile: f.serverLog, pidFile: f.serverPid, cwd: f.temporalDir });
  try {
    await waitUntilAnswering(pid, tls, timeoutMs);
  } catch (err) {
    await stopServer();
    throw err;
  }
  return { pid, reused: false };
}

async function waitUntilAnswering(pid: number, tls: StackTls, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (!isAlive(pid)) throw new Error(`the Temporal server (pid ${pid}) exited while starting; end of ${stackFiles().serverLog}:\n${logTail()}`);
    let conn: Connection | undefined;
    try {
      conn = await Connection.connect({ ...mtlsConnectionOptions(tls), connectTimeout: 2_000 });
      await conn.workflowService.getSystemInfo({});
      return;
    } catch (err) {
      last = (err as Error).message;
    } finally {
      await conn?.close().catch(() => undefined);
    }
    await sleep(500);
  }
  throw new Error(`the Temporal server (pid ${pid}) did not answer on ${STACK_ADDRESS} within ${timeoutMs} ms (${last}); end of its log:\n${logTail()}`);
}

/**
 * The namespace ferry runs in: the server on SQL creates none by itself (the official images'
 * admin-tools step does); registered here once, with a week of retention.
 */
export async function ensureNamespace(tls: StackTls): Promise<'created' | 'found'> {
  const conn = await Connection.connect(mtlsConnectionOptions(tls));
  try {
    try {
      await conn.workflowService.describeNamespace({ namespace: STACK_NAMESPACE });
      return 'found';
    } catch {
      await conn.workflowService.registerNamespace({ namespace: STACK_NAMESPACE, workflowExecutionRetentionPeriod: msToTs('7 days') });
    }
    // The namespace cache of the other services catches up within seconds.
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await conn.workflowService.describeNamespace({ namespace: STACK_NAMESPACE });
        return 'created';
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await sleep(500);
      }
    }
  } finally {
    await conn.close().catch(() => undefined);
  }
}

/** SIGTERM (graceful), SIGKILL after the grace time; then waits for its ports to be free. */
export async function stopServer(graceMs = 20_000): Promise<void> {
  const f = stackFiles();
  if (serverPid() === undefined) {
    fs.rmSync(f.serverPid, { force: true });
    return;
  }
  await stopByPidFile(f.serverPid, graceMs);
  await portsReleased();
}

/** A crash: SIGKILL, no shutdown. Returns the PID killed. */
export async function killServer(): Promise<number | undefined> {
  const pid = serverPid();
  if (pid === undefined) return undefined;
  process.kill(pid, 'SIGKILL');
  const deadline = Date.now() + 10_000;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  if (isAlive(pid)) throw new Error(`the Temporal server (pid ${pid}) did not die on SIGKILL within 10 s`);
  await portsReleased();
  return pid;
}

async function portsReleased(timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const [name, port] of Object.entries(STACK_PORTS)) {
    if (name === 'postgres') continue;
    while (!(await portIsFree(port)) && Date.now() < deadline) await sleep(100);
  }
}
