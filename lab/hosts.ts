import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { etcHosts, libvirtdConf, qemuConf, virtlogdConf } from './libvirt-config';
import { hostNetns } from './network';
import { labDir, repoRoot } from './paths';
import { isAlive, livePid, readPid, run, startDaemon, stopPid, waitFor } from './proc';
import type { LabHost } from './state';

/** One lab host = a network namespace + a mount/UTS namespace running its own libvirtd and virtlogd. */

export function hostDir(hostName: string): string {
  return path.join(labDir(), 'hosts', hostName);
}

/** The daemon's unix socket as seen from the root namespace (its /run is <host dir>/run). */
export function hostSocketPath(hostName: string): string {
  return path.join(hostDir(hostName), 'run', 'libvirt', 'libvirt-sock');
}

/** The URI that reaches the host's daemon from the root namespace. */
export function hostUri(hostName: string): string {
  return `qemu+unix:///system?socket=${hostSocketPath(hostName)}`;
}

/** The URI a peer daemon uses to reach this host (peer-to-peer migration). */
export function hostPeerUri(hostName: string): string {
  return `qemu+tcp://${hostName}/system`;
}

/** Path of a file inside the host's private filesystem, as seen from the root namespace. */
export function hostPath(hostName: string, insidePath: string): string {
  const map: Array<[string, string]> = [
    ['/var/log/libvirt', 'log'],
    ['/var/lib/libvirt', 'lib'],
    ['/var/cache/libvirt', 'cache'],
    ['/etc/libvirt', 'etc'],
    ['/run', 'run'],
  ];
  for (const [prefix, sub] of map) {
    if (insidePath === prefix || insidePath.startsWith(`${prefix}/`)) {
      return path.join(hostDir(hostName), sub, insidePath.slice(prefix.length));
    }
  }
  throw new Error(`${insidePath} is not inside a lab host's private directories`);
}

const libvirtdPidFile = (h: string) => path.join(hostDir(h), 'run', 'libvirtd.pid');
const virtlogdPidFile = (h: string) => path.join(hostDir(h), 'run', 'virtlogd.pid');
const launcherPidFile = (h: string) => path.join(hostDir(h), 'launcher.pid');

/** libvirt insists on this user even when qemu.conf says root (field notes). */
async function ensureLibvirtQemuUser(): Promise<void> {
  try {
    await run('id', ['libvirt-qemu']);
  } catch {
    await run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'libvirt-qemu']);
  }
}

function writeHostFiles(host: LabHost, allHosts: LabHost[]): void {
  const dir = hostDir(host.name);
  for (const sub of ['etc/qemu', 'run', 'lib/qemu', 'log/qemu', 'cache/qemu']) {
    fs.mkdirSync(path.join(dir, sub), { recursive: true });
  }
  fs.writeFileSync(path.join(dir, 'etc', 'libvirtd.conf'), libvirtdConf(host));
  fs.writeFileSync(path.join(dir, 'etc', 'qemu.conf'), qemuConf(host));
  fs.writeFileSync(path.join(dir, 'etc', 'virtlogd.conf'), virtlogdConf());
  fs.writeFileSync(path.join(dir, 'hosts'), etcHosts(allHosts));
}

/** The mount points host-boot.sh binds over must exist in the root filesystem. */
function ensureMountPoints(): void {
  for (const p of ['/etc/libvirt', '/var/lib/libvirt', '/var/log/libvirt', '/var/cache/libvirt']) {
    fs.mkdirSync(p, { recursive: true });
  }
}

export function hostDaemonPid(hostName: string): number | undefined {
  return livePid(libvirtdPidFile(hostName));
}

function socketAccepts(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function hostIsUp(hostName: string): Promise<boolean> {
  return hostDaemonPid(hostName) !== undefined && (await socketAccepts(hostSocketPath(hostName)));
}

/** Starts the host's daemons unless they already run. Idempotent. */
export async function startHost(host: LabHost, allHosts: LabHost[]): Promise<void> {
  writeHostFiles(host, allHosts);
  if (await hostIsUp(host.name)) return;
  await ensureLibvirtQemuUser();
  ensureMountPoints();
  const dir = hostDir(host.name);
  const launcher = startDaemon(
    'ip',
    ['netns', 'exec', hostNetns(host.name), 'unshare', '--mount', '--uts', '--propagation', 'private',
      '/bin/sh', path.join(repoRoot, 'lab', 'host-boot.sh'), dir, host.name],
    { logFile: path.join(dir, 'daemon.log'), pidFile: launcherPidFile(host.name) },
  );
  try {
    await waitFor(`libvirtd of ${host.name}`, async () => hostIsUp(host.name), { timeoutMs: 30_000 });
  } catch (err) {
    const log = fs.existsSync(path.join(dir, 'daemon.log'))
      ? fs.readFileSync(path.join(dir, 'daemon.log'), 'utf8').slice(-2000)
      : '';
    await stopPid(launcher, 1000);
    throw new Error(`${(err as Error).message}\n--- ${dir}/daemon.log ---\n${log}`);
  }
}

/** QEMU processes the host's libvirtd started, from the pid files libvirt keeps for them. */
export function hostQemuPids(hostName: string): number[] {
  const qemuRun = path.join(hostDir(hostName), 'run', 'libvirt', 'qemu');
  if (!fs.existsSync(qemuRun)) return [];
  return fs
    .readdirSync(qemuRun)
    .filter((f) => f.endsWith('.pid'))
    .map((f) => readPid(path.join(qemuRun, f)))
    .filter((pid): pid is number => pid !== undefined && isAlive(pid));
}

/** Stops everything the host runs: its guests' QEMUs, libvirtd, virtlogd. Only our recorded PIDs. */
export async function stopHost(hostName: string): Promise<void> {
  for (const pid of hostQemuPids(hostName)) await stopPid(pid, 3_000);
  for (const pidFile of [libvirtdPidFile(hostName), virtlogdPidFile(hostName), launcherPidFile(hostName)]) {
    const pid = readPid(pidFile);
    if (pid !== undefined) await stopPid(pid, 5_000);
    fs.rmSync(pidFile, { force: true });
  }
}
