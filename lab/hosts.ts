import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { etcHosts, libvirtdConf, qemuConf, virtlogdConf } from './libvirt-config';
import { ensureLabPki } from './tls';
import { hostNetns, netnsInode, processInNetns } from './network';
import { labDir, repoRoot } from './paths';
import { isAlive, processComm, readPid, run, startDaemon, stopPid, waitFor } from './proc';
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

/** The same over TLS: the dialling libvirtd shows its host certificate, the lab CA checks both ends (lab/tls.ts). */
export function hostTlsPeerUri(hostName: string): string {
  return `qemu+tls://${hostName}/system`;
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

/** The two daemons of a lab host. */
export const HOST_DAEMONS = ['virtlogd', 'libvirtd'] as const;
export type HostDaemon = (typeof HOST_DAEMONS)[number];

const pidFileOf: Record<HostDaemon, (h: string) => string> = { libvirtd: libvirtdPidFile, virtlogd: virtlogdPidFile };

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
  // Certificates before the daemon: libvirtd with listen_tls refuses to start without them.
  ensureLabPki([{ name: host.name, address: host.address, dir }]);
}

/** The mount points host-boot.sh binds over must exist in the root filesystem. */
function ensureMountPoints(): void {
  for (const p of ['/etc/libvirt', '/etc/pki', '/var/lib/libvirt', '/var/log/libvirt', '/var/cache/libvirt']) {
    fs.mkdirSync(p, { recursive: true });
  }
}

/**
 * True when pid is a live process of this host with that command name: it runs in the host's
 * network namespace (when the namespace still exists), so a PID reused by another process is
 * never taken for ours.
 */
function isHostProcess(pid: number | undefined, hostName: string, comm: (c: string) => boolean): pid is number {
  if (pid === undefined || !isAlive(pid)) return false;
  const c = processComm(pid);
  if (c === undefined || !comm(c)) return false;
  return netnsInode(hostNetns(hostName)) === undefined || processInNetns(pid, hostNetns(hostName));
}

/** The live PID of one of the host's daemons, from the PID file the daemon keeps itself. */
export function hostDaemonPidOf(hostName: string, daemon: HostDaemon): number | undefined {
  const pid = readPid(pidFileOf[daemon](hostName));
  return isHostProcess(pid, hostName, (c) => c === daemon) ? pid : undefined;
}

/** The live PID of the host's libvirtd. */
export function hostDaemonPid(hostName: string): number | undefined {
  return hostDaemonPidOf(hostName, 'libvirtd');
}

export function socketAccepts(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** virtlogd's socket as seen from the root namespace. */
export function hostVirtlogdSocketPath(hostName: string): string {
  return path.join(hostDir(hostName), 'run', 'libvirt', 'virtlogd-sock');
}

/** The host's libvirtd runs and accepts connections on its socket. */
export async function hostIsUp(hostName: string): Promise<boolean> {
  return hostDaemonPid(hostName) !== undefined && (await socketAccepts(hostSocketPath(hostName)));
}

export interface HostProcesses {
  libvirtd: number | undefined;
  virtlogd: number | undefined;
  /** The host's guests (QEMU processes), which outlive a daemon's death. */
  qemu: number[];
}

export function hostProcesses(hostName: string): HostProcesses {
  return {
    libvirtd: hostDaemonPidOf(hostName, 'libvirtd'),
    virtlogd: hostDaemonPidOf(hostName, 'virtlogd'),
    qemu: hostQemuPids(hostName),
  };
}

export interface HostStartReport {
  /** The daemons this call started (empty: everything already ran). */
  started: HostDaemon[];
  /**
   * Where they were started: 'joined' = inside the mount/UTS/network namespaces of a process of
   * the host that still ran (its other daemon or a guest), 'fresh' = a new mount/UTS namespace.
   */
  namespaces: 'joined' | 'fresh' | null;
  /** The PID whose namespaces were joined. */
  joinedPid: number | null;
}

/** Writes the host's configuration and starts whichever of its daemons is not running. Idempotent. */
export async function startHost(host: LabHost, allHosts: LabHost[]): Promise<HostStartReport> {
  writeHostFiles(host, allHosts);
  return startHostDaemons(host.name, HOST_DAEMONS);
}

/**
 * Starts the named daemons of the host that do not run, and nothing else: what runs is never
 * stopped or replaced. When any process of the host still lives (the other daemon, or a guest's
 * QEMU), the daemons start inside its namespaces (nsenter), so they see the same private /run
 * and mounts: a restarted libvirtd finds and reconnects to the running guests, and a restarted
 * virtlogd does not collide with a live one over its PID file. Otherwise the host boots afresh
 * (host-boot.sh in a new mount + UTS namespace). Waits until each started daemon answers.
 */
export async function startHostDaemons(hostName: string, which: readonly HostDaemon[]): Promise<HostStartReport> {
  const dir = hostDir(hostName);
  if (!fs.existsSync(path.join(dir, 'etc', 'libvirtd.conf'))) {
    throw new Error(`host ${hostName} was never set up (no ${dir}/etc/libvirtd.conf): bring the lab up first`);
  }
  const procs = hostProcesses(hostName);
  const missing = HOST_DAEMONS.filter((d) => which.includes(d) && procs[d] === undefined);
  const report: HostStartReport = { started: missing, namespaces: null, joinedPid: null };
  if (missing.length > 0) {
    await ensureLibvirtQemuUser();
    ensureMountPoints();
    const anchor = procs.libvirtd ?? procs.virtlogd ?? procs.qemu[0];
    if (anchor === undefined) {
      report.namespaces = 'fresh';
      startDaemon(
        'ip',
        ['netns', 'exec', hostNetns(hostName), 'unshare', '--mount', '--uts', '--propagation', 'private',
          '/bin/sh', path.join(repoRoot, 'lab', 'host-boot.sh'), dir, hostName, ...missing],
        { logFile: path.join(dir, 'daemon.log'), pidFile: launcherPidFile(hostName) },
      );
    } else {
      report.namespaces = 'joined';
      report.joinedPid = anchor;
      const enter = ['-t', String(anchor), '--net', '--mount', '--uts'];
      if (missing.includes('virtlogd')) {
        fs.appendFileSync(path.join(dir, 'daemon.log'), `--- ${new Date().toISOString()} virtlogd restarted in the namespaces of pid ${anchor}\n`);
        await run('nsenter', [...enter, 'virtlogd', '-d', '-f', '/etc/libvirt/virtlogd.conf', '-p', '/run/virtlogd.pid']);
      }
      if (missing.includes('libvirtd')) {
        fs.appendFileSync(path.join(dir, 'daemon.log'), `--- ${new Date().toISOString()} libvirtd restarted in the namespaces of pid ${anchor}\n`);
        // nsenter execs libvirtd: the PID recorded is libvirtd's own, as host-boot.sh's is.
        startDaemon('nsenter', [...enter, 'libvirtd', '--listen', '-f', '/etc/libvirt/libvirtd.conf', '-p', '/run/libvirtd.pid'], {
          logFile: path.join(dir, 'daemon.log'),
          pidFile: launcherPidFile(hostName),
        });
      }
    }
  }
  try {
    if (which.includes('virtlogd')) {
      await waitFor(`virtlogd of ${hostName}`, async () => hostDaemonPidOf(hostName, 'virtlogd') !== undefined && socketAccepts(hostVirtlogdSocketPath(hostName)), { timeoutMs: 30_000 });
    }
    if (which.includes('libvirtd')) {
      await waitFor(`libvirtd of ${hostName}`, async () => hostIsUp(hostName), { timeoutMs: 30_000 });
    }
  } catch (err) {
    const log = fs.existsSync(path.join(dir, 'daemon.log')) ? fs.readFileSync(path.join(dir, 'daemon.log'), 'utf8').slice(-2000) : '';
    // Only a launcher this call started is stopped, and only while it has not become a daemon that answers.
    if (report.namespaces === 'fresh') {
      const launcher = readPid(launcherPidFile(hostName));
      if (launcher !== undefined && hostDaemonPid(hostName) !== launcher) await stopPid(launcher, 1000);
    }
    throw new Error(`${(err as Error).message}\n--- ${dir}/daemon.log ---\n${log}`);
  }
  return report;
}

/**
 * Kills one daemon of the host with SIGKILL (a crash: no cleanup, its PID file and socket stay
 * behind) and waits until it is gone. Its guests keep running. Returns the PID killed, or
 * undefined when the daemon was not running.
 */
export async function killHostDaemon(hostName: string, daemon: HostDaemon): Promise<number | undefined> {
  const pid = hostDaemonPidOf(hostName, daemon);
  if (pid === undefined) return undefined;
  process.kill(pid, 'SIGKILL');
  await waitFor(`${daemon} of ${hostName} (pid ${pid}) to die`, () => !isAlive(pid), { timeoutMs: 10_000, intervalMs: 50 });
  return pid;
}

/** QEMU processes the host's libvirtd started, from the pid files libvirt keeps for them. */
export function hostQemuPids(hostName: string): number[] {
  const qemuRun = path.join(hostDir(hostName), 'run', 'libvirt', 'qemu');
  if (!fs.existsSync(qemuRun)) return [];
  return fs
    .readdirSync(qemuRun)
    .filter((f) => f.endsWith('.pid'))
    .map((f) => readPid(path.join(qemuRun, f)))
    .filter((pid): pid is number => isHostProcess(pid, hostName, (c) => c.startsWith('qemu-system')));
}

/** Stops everything the host runs: its guests' QEMUs, libvirtd, virtlogd. Only our recorded PIDs. */
export async function stopHost(hostName: string): Promise<void> {
  for (const pid of hostQemuPids(hostName)) await stopPid(pid, 3_000);
  const launcher = readPid(launcherPidFile(hostName));
  const pids = [
    hostDaemonPidOf(hostName, 'libvirtd'),
    hostDaemonPidOf(hostName, 'virtlogd'),
    // The launcher is libvirtd itself once booted; before that, the shell or nsenter starting it.
    isHostProcess(launcher, hostName, (c) => ['libvirtd', 'virtlogd', 'sh', 'nsenter', 'unshare', 'ip'].includes(c)) ? launcher : undefined,
  ];
  for (const pid of pids) if (pid !== undefined) await stopPid(pid, 5_000);
  for (const pidFile of [libvirtdPidFile(hostName), virtlogdPidFile(hostName), launcherPidFile(hostName)]) fs.rmSync(pidFile, { force: true });
}
