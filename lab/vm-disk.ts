/**
 * The disk checker run against a lab VM where it is now: the guest is paused while its image is
 * read (the image must not move under the reader), the image is the copy on the host that runs
 * it (local pool) or the one shared file, and the serial logs are every host's.
 */
import { DomainState } from '../activities/libvirt';
import { checkGuestDiskFiles } from './guest/disk-read';
import type { DiskVerdict } from './guest/disk-check';
import { findDomain, withHostClient } from './host-clients';
import { hostPath } from './hosts';
import { requireLabState } from './state';
import { LAB_LOCAL_POOL, labSharedPool, poolDirOutside } from './storage';
import { locateVm, requireLabVm, serialInside } from './vms';

export interface LabDiskCheck extends DiskVerdict {
  /** The host whose copy was read. */
  host: string;
  imagePath: string;
}

/** Image path (root namespace) of the VM's disk on a host. */
export function labVmImagePath(vmName: string, host: string): string {
  const vm = requireLabVm(vmName);
  if (!vm.disk) throw new Error(`lab VM '${vmName}' has no disk (create it with disk: …)`);
  const pool = vm.disk.pool === 'local' ? LAB_LOCAL_POOL : labSharedPool();
  return `${poolDirOutside(host, pool)}/${vm.disk.volume}`;
}

/** Pauses the VM where it runs, checks its disk against its serial, resumes it (if it was running). */
export async function checkLabVmDisk(vmName: string, opts: { host?: string } = {}): Promise<LabDiskCheck> {
  const state = requireLabState();
  const where = await locateVm(vmName, state);
  const host = opts.host ?? where.host;
  if (!host) throw new Error(`lab VM '${vmName}' runs nowhere (${where.state}): name the host whose image to check`);
  const imagePath = labVmImagePath(vmName, host);
  const serialLogPaths = state.hosts.map((h) => hostPath(h.name, serialInside(vmName)));
  const check = () => checkGuestDiskFiles({ imagePath, serialLogPaths });
  if (where.host !== host || where.state !== 'running') return { ...(await check()), host, imagePath };
  return withHostClient(host, async (c) => {
    const found = await findDomain(c, vmName);
    if (!found || found.state.state !== DomainState.Running) return { ...(await check()), host, imagePath };
    await c.domainSuspend(found.dom);
    try {
      return { ...(await check()), host, imagePath };
    } finally {
      await c.domainResume(found.dom);
    }
  });
}
