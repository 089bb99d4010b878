/**
 * The lab's OpenStack Placement: Debian's python3-placement (8.0.0, microversions 1.0–1.39),
 * standalone with noauth2 and a SQLite database under .lab/placement/, served on loopback by
 * Debian's `placement-api` script (wsgiref; single-threaded, plenty for a lab).
 *
 *   npx tsx lab/placement.ts install | start | status | stop
 */
import fs from 'node:fs';
import path from 'node:path';
import { labDir } from './paths';
import { assertPortFree, portIsFree } from './ports';
import { isAlive, readPid, run, sleep, startDaemon, stopByPidFile } from './proc';

/**
 * Debian's scripts must run with Debian's interpreter: the `python3` first on PATH may be a
 * separate build (pyenv here) that does not see /usr/lib/python3/dist-packages.
 */
const DEBIAN_PYTHON = '/usr/bin/python3';
const PLACEMENT_API = '/usr/bin/placement-api';
const PLACEMENT_MANAGE = '/usr/bin/placement-manage';
const PACKAGE = 'python3-placement';
const INSTALL_HINT = `apt-get install -y --no-install-recommends ${PACKAGE}`;

export const DEFAULT_PLACEMENT_PORT = 8778;
const HOST = '127.0.0.1';

export interface PlacementOptions {
  /** FERRY_PLACEMENT_PORT or 8778. */
  port?: number;
  startTimeoutMs?: number;
}

export interface PlacementInfo {
  url: string;
  port: number;
  pid: number;
  /** Supported microversions as reported by GET /. */
  minVersion: string;
  maxVersion: string;
  configDir: string;
  dbFile: string;
  logFile: string;
  reused: boolean;
}

export type PlacementStatus =
  | { running: false; pidFile: string }
  | ({ running: true; answering: boolean } & Omit<PlacementInfo, 'reused' | 'minVersion' | 'maxVersion'> &
      Partial<Pick<PlacementInfo, 'minVersion' | 'maxVersion'>>);

function files() {
  const dir = path.join(labDir(), 'placement');
  return {
    dir,
    confFile: path.join(dir, 'placement.conf'),
    dbFile: path.join(dir, 'placement.sqlite'),
    pidFile: path.join(dir, 'placement.pid'),
    logFile: path.join(dir, 'placement.log'),
    stateFile: path.join(dir, 'state.json'),
  };
}

/** Environment for Debian's Python: nothing from pyenv or a virtualenv leaks in. */
function debianPythonEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const k of ['PYTHONPATH', 'PYTHONHOME', 'PYTHONSTARTUP', 'VIRTUAL_ENV', 'PYENV_VERSION']) delete env[k];
  return env;
}

// ---- installation -------------------------------------------------------------------------

async function dpkgStatus(): Promise<{ status: string; version: string } | undefined> {
  try {
    const out = await run('dpkg-query', ['-W', '-f=${db:Status-Abbrev}|${Version}', PACKAGE], { timeoutMs: 10_000 });
    const [status = '', version = ''] = out.split('|');
    return { status: status.trim(), version: version.trim() };
  } catch {
    return undefined; // not known to dpkg at all
  }
}

/** True while apt or dpkg runs (another install may be bringing the package in right now). */
function aptBusy(): boolean {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (comm === 'apt-get' || comm === 'apt' || comm === 'dpkg' || comm === 'aptitude') return true;
    } catch {
      /* gone */
    }
  }
  return false;
}

/** The installed Placement's Debian version, or an error saying what to install. Never installs. */
export async function placementInstallation(): Promise<{ packageVersion: string }> {
  const st = await dpkgStatus();
  if (!st || st.status !== 'ii') {
    throw new Error(
      `OpenStack Placement is not installed (${PACKAGE}: ${st ? `dpkg status '${st.status}'` : 'unknown to dpkg'}). ` +
        `Install it: ${INSTALL_HINT} (or \`npx tsx lab/placement.ts install\`).`,
    );
  }
  for (const f of [DEBIAN_PYTHON, PLACEMENT_API, PLACEMENT_MANAGE]) {
    if (!fs.existsSync(f)) throw new Error(`${PACKAGE} ${st.version} is installed but ${f} is missing; reinstall: ${INSTALL_HINT}`);
  }
  try {
    await run(DEBIAN_PYTHON, ['-c', 'import placement.wsgi'], { env: debianPythonEnv(), timeoutMs: 60_000 });
  } catch (err) {
    throw new Error(`${DEBIAN_PYTHON} cannot import placement (${String(err)}); reinstall: ${INSTALL_HINT}`);
  }
  return { packageVersion: st.version };
}

/**
 * Makes sure Debian's python3-placement is installed: waits for an apt/dpkg run in progress,
 * then installs it with apt-get when still missing (root only).
 */
export async function ensurePlacementInstalled({ waitMs = 20 * 60_000 } = {}): Promise<{ packageVersion: string }> {
  const deadline = Date.now() + waitMs;
  while ((await dpkgStatus())?.status !== 'ii' && aptBusy() && Date.now() < deadline) await sleep(2_000);
  if ((await dpkgStatus())?.status !== 'ii') {
    if (process.getuid?.() !== 0) throw new Error(`${PACKAGE} is not installed and we are not root: ${INSTALL_HINT}`);
    await run('apt-get', ['install', '-y', '--no-install-recommends', PACKAGE], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeoutMs: waitMs,
    });
  }
  return placementInstallation();
}

// ---- the service --------------------------------------------------------------------------

function resolvePort(opts: PlacementOptions): number {
  if (opts.port !== undefined) return opts.port;
  const v = process.env.FERRY_PLACEMENT_PORT;
  if (v === undefined || v === '') return DEFAULT_PLACEMENT_PORT;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new Error(`FERRY_PLACEMENT_PORT=${v} is not a TCP port`);
  return n;
}

function writeConfig(): void {
  const f = files();
  fs.mkdirSync(f.dir, { recursive: true });
  const conf = [
    '# Written by lab/placement.ts on every start; edits are overwritten.',
    '[DEFAULT]',
    'debug = false',
    '',
    '[api]',
    'auth_strategy = noauth2',
    '',
    '[placement_database]',
    `connection = sqlite:///${f.dbFile}`, // an absolute path gives sqlite:////abs/...
    '',
  ].join('\n');
  fs.writeFileSync(f.confFile, conf);
}

/** Our recorded PID if it is alive and still Debian's placement-api started by us (not a reused PID). */
function ourPid(): number | undefined {
  const pid = readPid(files().pidFile);
  if (pid === undefined || !isAlive(pid)) return undefined;
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    return cmdline.includes(PLACEMENT_API) && environ.includes(`OS_PLACEMENT_CONFIG_DIR=${files().dir}`) ? pid : undefined;
  } catch {
    return undefined;
  }
}

function readStatePort(): number | undefined {
  try {
    return (JSON.parse(fs.readFileSync(files().stateFile, 'utf8')) as { port?: number }).port;
  } catch {
    return undefined;
  }
}

/** GET / answers the supported microversion range (no auth, no microversion header needed). */
export async function placementVersions(url: string, timeoutMs = 2_000): Promise<{ minVersion: string; maxVersion: string } | undefined> {
  try {
    const res = await fetch(url + '/', { signal: AbortSignal.timeout(timeoutMs), headers: { Accept: 'application/json' } });
    if (!res.ok) return undefined;
    const body = (await res.json()) as { versions?: { min_version?: string; max_version?: string }[] };
    const v = body.versions?.[0];
    return v?.min_version && v.max_version ? { minVersion: v.min_version, maxVersion: v.max_version } : undefined;
  } catch {
    return undefined;
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

async function waitUntilAnswering(pid: number, url: string, logFile: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) throw new Error(`placement-api (pid ${pid}) exited while starting; end of ${logFile}:\n${logTail(logFile)}`);
    const v = await placementVersions(url);
    if (v) return v;
    await sleep(200);
  }
  throw new Error(`placement-api (pid ${pid}) did not answer GET ${url}/ within ${timeoutMs} ms; end of ${logFile}:\n${logTail(logFile)}`);
}

function info(pid: number, port: number, v: { minVersion: string; maxVersion: string }, reused: boolean): PlacementInfo {
  const f = files();
  return { url: `http://${HOST}:${port}`, port, pid, ...v, configDir: f.dir, dbFile: f.dbFile, logFile: f.logFile, reused };
}

/**
 * Starts Placement (config, idempotent db sync, placement-api on 127.0.0.1), or reuses ours when
 * it runs and answers. Fails (never kills) when the port belongs to someone else.
 */
export async function startPlacement(opts: PlacementOptions = {}): Promise<PlacementInfo> {
  const port = resolvePort(opts);
  const timeoutMs = opts.startTimeoutMs ?? 60_000;
  const f = files();

  const running = ourPid();
  if (running !== undefined) {
    // Without an explicit port, whatever port ours runs on is the lab's Placement.
    const runningPort = readStatePort() ?? port;
    const explicitPort = opts.port ?? (process.env.FERRY_PLACEMENT_PORT ? port : undefined);
    if (explicitPort !== undefined && runningPort !== explicitPort) {
      throw new Error(`the lab's Placement already runs on port ${runningPort} (pid ${running}); stopPlacement() before starting it on ${explicitPort}`);
    }
    const v = await waitUntilAnswering(running, `http://${HOST}:${runningPort}`, f.logFile, timeoutMs);
    return info(running, runningPort, v, true);
  }
  fs.rmSync(f.pidFile, { force: true });

  await placementInstallation();
  await assertPortFree(port, 'Placement', 'FERRY_PLACEMENT_PORT');
  writeConfig();
  await run(DEBIAN_PYTHON, [PLACEMENT_MANAGE, '--config-dir', f.dir, 'db', 'sync'], {
    env: debianPythonEnv(),
    cwd: f.dir,
    timeoutMs: 120_000,
  });
  fs.appendFileSync(f.logFile, `\n--- ${new Date().toISOString()} ${PLACEMENT_API} --host ${HOST} --port ${port}\n`);
  const pid = startDaemon(DEBIAN_PYTHON, [PLACEMENT_API, '--host', HOST, '--port', String(port)], {
    logFile: f.logFile,
    pidFile: f.pidFile,
    cwd: f.dir,
    env: debianPythonEnv({ OS_PLACEMENT_CONFIG_DIR: f.dir }),
  });
  fs.writeFileSync(f.stateFile, JSON.stringify({ port, pid }) + '\n');
  try {
    const v = await waitUntilAnswering(pid, `http://${HOST}:${port}`, f.logFile, timeoutMs);
    return info(pid, port, v, false);
  } catch (err) {
    await stopPlacement();
    throw err;
  }
}

/** Stops our placement-api (only the PID we recorded, and only while it is still ours). */
export async function stopPlacement(): Promise<void> {
  const f = files();
  if (ourPid() === undefined) {
    fs.rmSync(f.pidFile, { force: true });
    return;
  }
  await stopByPidFile(f.pidFile, 10_000);
}

/**
 * Crashes our placement-api: SIGKILL, no shutdown. Its SQLite file stays (providers,
 * allocations), so startPlacement() brings it back as it was. Returns the PID killed, or
 * undefined when it was not running.
 */
export async function killPlacement(): Promise<number | undefined> {
  const pid = ourPid();
  if (pid === undefined) return undefined;
  process.kill(pid, 'SIGKILL');
  const deadline = Date.now() + 10_000;
  const port = readStatePort();
  // Dead, and its port released (every thread gone: see isAlive).
  while ((isAlive(pid) || (port !== undefined && !(await portIsFree(port)))) && Date.now() < deadline) await sleep(50);
  if (isAlive(pid)) throw new Error(`placement-api (pid ${pid}) did not die on SIGKILL within 10 s`);
  return pid;
}

export async function placementStatus(): Promise<PlacementStatus> {
  const f = files();
  const pid = ourPid();
  if (pid === undefined) return { running: false, pidFile: f.pidFile };
  const port = readStatePort() ?? resolvePort({});
  const url = `http://${HOST}:${port}`;
  const v = await placementVersions(url);
  return { running: true, answering: v !== undefined, url, port, pid, ...v, configDir: f.dir, dbFile: f.dbFile, logFile: f.logFile };
}

async function main(cmd: string | undefined): Promise<void> {
  switch (cmd) {
    case 'install':
      console.log(JSON.stringify(await ensurePlacementInstalled()));
      return;
    case 'start':
      console.log(JSON.stringify(await startPlacement(), null, 2));
      return;
    case 'stop':
      await stopPlacement();
      return;
    case 'status':
      console.log(JSON.stringify(await placementStatus(), null, 2));
      return;
    default:
      throw new Error('usage: lab/placement.ts install|start|stop|status');
  }
}

if (require.main === module) {
  main(process.argv[2]).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
