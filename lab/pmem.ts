/**
 * The lab's persistent-memory namespaces: each host emulates a few fixed-size regions as files
 * under its own /var/lib/libvirt/pmem (in the host's lab dir, seen by its QEMU at the same inside
 * path on every host, as /dev/dax0.0 would be). Files are sparse: a 64 MiB namespace costs no disk
 * until a guest or a test writes into it.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { PmemNamespace } from '../model/pmem/namespace';
import { hostDir, hostPath } from './hosts';

/** Where each host's QEMU finds its namespaces (inside the host's mount namespace). */
export const LAB_PMEM_DIR_INSIDE = '/var/lib/libvirt/pmem';

export const DEFAULT_PMEM_NAMESPACES = 2;
export const DEFAULT_PMEM_NAMESPACE_MIB = 64;

/** A lab host's namespaces: ns0, ns1, … of one size. */
export function labPmemNamespaces(count: number, sizeMiB: number): PmemNamespace[] {
  if (!Number.isInteger(count) || count < 0 || count > 16) throw new Error(`pmem namespaces per host must be a whole number from 0 to 16, got ${count}`);
  if (!Number.isInteger(sizeMiB) || sizeMiB < 2 || sizeMiB % 2 !== 0 || sizeMiB > 4096) {
    throw new Error(`a pmem namespace must be an even whole number of MiB from 2 to 4096, got ${sizeMiB}`);
  }
  return Array.from({ length: count }, (_, i) => ({ name: `ns${i}`, path: `${LAB_PMEM_DIR_INSIDE}/ns${i}`, sizeMiB }));
}

/** Where the worker records which namespace went to which migration on this host (activities/pmem/records.ts). */
export function labPmemAssignmentsDir(hostName: string): string {
  return path.join(hostDir(hostName), 'pmem-assignments');
}

export type PmemFileAction =
  | { path: string; sizeBytes: number; action: 'create' | 'keep' }
  | { path: string; sizeBytes: number; action: 'refuse'; why: string };

/**
 * What to do with each backing file, from the sizes found (undefined: absent). QEMU refuses a
 * backing file smaller than the device and takes a zero-length one as new, so a file is created at
 * exactly its size; one of another size is never resized behind a guest's back: it is refused.
 */
export function pmemFilePlan(files: ReadonlyArray<{ path: string; sizeMiB: number }>, sizeOf: (path: string) => number | undefined): PmemFileAction[] {
  return files.map((f) => {
    const sizeBytes = f.sizeMiB * 1024 * 1024;
    const found = sizeOf(f.path);
    if (found === undefined || found === 0) return { path: f.path, sizeBytes, action: 'create' as const };
    if (found === sizeBytes) return { path: f.path, sizeBytes, action: 'keep' as const };
    return {
      path: f.path, sizeBytes, action: 'refuse' as const,
      why: `${f.path} is ${found} bytes, not the ${sizeBytes} of its namespace: remove it (and any lab VM using it) and bring the lab up again`,
    };
  });
}

function fileSize(p: string): number | undefined {
  try {
    return fs.statSync(p).size;
  } catch {
    return undefined;
  }
}

/** Creates the host's missing namespace files (sparse, exact size). Idempotent; refuses a file of another size. */
export function ensurePmemFiles(hostName: string, namespaces: readonly PmemNamespace[]): PmemFileAction[] {
  const plan = pmemFilePlan(namespaces.map((ns) => ({ path: hostPath(hostName, ns.path), sizeMiB: ns.sizeMiB })), fileSize);
  const refused = plan.filter((p) => p.action === 'refuse');
  if (refused.length > 0) throw new Error(`host ${hostName}: ${refused.map((r) => (r as { why: string }).why).join('; ')}`);
  for (const p of plan.filter((x) => x.action === 'create')) {
    fs.mkdirSync(path.dirname(p.path), { recursive: true });
    if (!fs.existsSync(p.path)) fs.closeSync(fs.openSync(p.path, 'wx'));
    fs.truncateSync(p.path, p.sizeBytes);
  }
  return plan;
}

/**
 * A namespace given to a new guest starts empty (a freed one may hold its last guest's data), then
 * holds `seed` at offset 0 when given: the host's write before the guest starts.
 */
export function resetPmemNamespace(hostName: string, ns: PmemNamespace, seed?: Buffer): void {
  const file = hostPath(hostName, ns.path);
  const size = ns.sizeMiB * 1024 * 1024;
  if (seed && seed.length > size) throw new Error(`the seed (${seed.length} bytes) does not fit namespace ${ns.name} (${size} bytes)`);
  fs.truncateSync(file, 0);
  fs.truncateSync(file, size);
  if (seed) {
    const fd = fs.openSync(file, 'r+');
    try {
      fs.writeSync(fd, seed, 0, seed.length, 0);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** The first `length` bytes of a host's namespace file (what a test compares with the seed). */
export function readPmemNamespace(hostName: string, nsPath: string, length: number): Buffer {
  const fd = fs.openSync(hostPath(hostName, nsPath), 'r');
  try {
    const buf = Buffer.alloc(length);
    const n = fs.readSync(fd, buf, 0, length, 0);
    return buf.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}
