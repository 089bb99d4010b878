/**
 * The stack's OpenStack Placement: Debian's placement-api (as the lab's, lab/placement.ts), with
 * its own SQLite file and port, so the stack and the lab run side by side. noauth2: the workers
 * send the stack's token as the lab's do; a Placement behind Keystone is the operator's.
 */
import fs from 'node:fs';
import path from 'node:path';
import { placementInstallation, placementVersions } from '../lab/placement';
import { assertPortFree } from '../lab/ports';
import { isAlive, readPid, run, sleep, startDaemon, stopByPidFile } from '../lab/proc';
import { STACK_PLACEMENT_PORT } from './versions';

const DEBIAN_PYTHON = '/usr/bin/python3';
const PLACEMENT_API = '/usr/bin/placement-api';
const PLACEMENT_MANAGE = '/usr/bin/placement-manage';

export const STACK_PLACEMENT_URL = `http://127.0.0.1:${STACK_PLACEMENT_PORT}`;

function files(dir: string) {
  return { conf: path.join(dir, 'placement.conf'), db: path.join(dir, 'placement.sqlite'), pid: path.join(dir, 'placement.pid'), log: path.join(dir, 'placement.log') };
}

function debianPythonEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const k of ['PYTHONPATH', 'PYTHONHOME', 'PYTHONSTARTUP', 'VIRTUAL_ENV', 'PYENV_VERSION']) delete env[k];
  return env;
}

/** Ours: recorded PID, alive, Debian's placement-api on our config dir. */
export function placementPid(dir: string): number | undefined {
  const pid = readPid(files(dir).pid);
  if (pid === undefined || !isAlive(pid)) return undefined;
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    return cmdline.includes(PLACEMENT_API) && environ.includes(`OS_PLACEMENT_CONFIG_DIR=${dir}`) ? pid : undefined;
  } catch {
    return undefined;
  }
}

export async function startStackPlacement(dir: string, timeoutMs = 60_000): Promise<{ pid: number; reused: boolean }> {
  const f = files(dir);
  const running = placementPid(dir);
  if (running !== undefined) return { pid: running, reused: true };
  await placementInstallation();
  await assertPortFree(STACK_PLACEMENT_PORT, "the stack's Placement", 'STACK_PLACEMENT_PORT in stack/versions.ts');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(f.conf, ['# Written by stack/placement.ts.', '[api]', 'auth_strategy = noauth2', '', '[placement_database]', `connection = sqlite:///${f.db}`, ''].join('\n'));
  await run(DEBIAN_PYTHON, [PLACEMENT_MANAGE, '--config-dir', dir, 'db', 'sync'], { env: debianPythonEnv(), cwd: dir, timeoutMs: 120_000 });
  const pid = startDaemon(DEBIAN_PYTHON, [PLACEMENT_API, '--host', '127.0.0.1', '--port', String(STACK_PLACEMENT_PORT)], {
    logFile: f.log,
    pidFile: f.pid,
    cwd: dir,
    env: debianPythonEnv({ OS_PLACEMENT_CONFIG_DIR: dir }),
  });
  const deadline = Date.now() + timeoutMs;
  while (!(await placementVersions(STACK_PLACEMENT_URL))) {
    if (!isAlive(pid) || Date.now() > deadline) {
      await stopByPidFile(f.pid);
      throw new Error(`the stack's Placement (pid ${pid}) did not answer on ${STACK_PLACEMENT_URL}; see ${f.log}`);
    }
    await sleep(200);
  }
  return { pid, reused: false };
}

export async function stopStackPlacement(dir: string): Promise<void> {
  if (placementPid(dir) === undefined) {
    fs.rmSync(files(dir).pid, { force: true });
    return;
  }
  await stopByPidFile(files(dir).pid, 10_000);
}
