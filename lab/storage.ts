/**
 * The lab's storage: two libvirt `dir` pools on every host, the shapes issue 10 migrates disks
 * between.
 *
 * - `ferry-local`: each host's own /var/lib/libvirt/images. /var/lib/libvirt is bound to the host's
 *   lab dir (host-boot.sh), so the same inside path holds different files on each host: local
 *   storage, moved by block migration.
 * - `ferry-shared`: one directory of the machine, outside every host's private binds, so all hosts
 *   see the same files at the same absolute path: it stands in for NFS or Ceph.
 *
 * Pools are defined through the host's own daemon (virsh, a lab tool), marked autostart so a daemon
 * restarted by a fault test brings them back active.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { hostPath, hostUri } from './hosts';
import { labDir } from './paths';

const execFileAsync = promisify(execFile);

export interface LabPool {
  name: string;
  /** The pool's directory as each host's daemon and QEMU see it. */
  path: string;
  shared: boolean;
}

export const LAB_LOCAL_POOL: LabPool = { name: 'ferry-local', path: '/var/lib/libvirt/images', shared: false };

export function labSharedPool(): LabPool {
  return { name: 'ferry-shared', path: path.join(labDir(), 'shared-storage'), shared: true };
}

export function labPools(): LabPool[] {
  return [LAB_LOCAL_POOL, labSharedPool()];
}

/** The pool's directory as seen from the root namespace (where the lab and tests read files). */
export function poolDirOutside(hostName: string, pool: LabPool): string {
  return pool.shared ? pool.path : hostPath(hostName, pool.path);
}

/** virsh against the host's own daemon (lab only: ferry itself speaks libvirt's protocol). */
export async function virshOn(hostName: string, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('virsh', ['-c', hostUri(hostName), ...args], { encoding: 'utf8' });
  return stdout;
}

/** What virsh's `pool-info` says of a pool, or undefined when the host has no such pool. */
async function poolState(hostName: string, name: string): Promise<{ active: boolean; autostart: boolean } | undefined> {
  try {
    const out = await virshOn(hostName, ['pool-info', name]);
    return { active: /^State:\s+running/m.test(out), autostart: /^Autostart:\s+yes/m.test(out) };
  } catch {
    return undefined;
  }
}

/** Defines, starts and marks autostart each lab pool the host lacks. Idempotent; returns what it changed. */
export async function ensureLabPools(hostName: string): Promise<string[]> {
  const changed: string[] = [];
  for (const pool of labPools()) {
    fs.mkdirSync(poolDirOutside(hostName, pool), { recursive: true });
    let state = await poolState(hostName, pool.name);
    if (!state) {
      await virshOn(hostName, ['pool-define-as', pool.name, 'dir', '--target', pool.path]);
      changed.push(`${pool.name} defined`);
      state = { active: false, autostart: false };
    }
    if (!state.active) {
      await virshOn(hostName, ['pool-start', pool.name]);
      changed.push(`${pool.name} started`);
    }
    if (!state.autostart) await virshOn(hostName, ['pool-autostart', pool.name]);
  }
  return changed;
}
