import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DomainState, type LibvirtClient } from '../activities/libvirt';
import { PlacementClient, allocateVmOnProvider } from '../activities/placement';
import { ensureGuestBuilt } from './guest/build';
import { guestDomainXml } from './guest/domain-xml';
import {
  latestHeartbeat, markNow, mergeGuestSerial, readGuestSerial, stallSince, type Heartbeat, type ParsedSerial, type StallReport,
} from './guest/serial';
import { findDomain, withHostClient, withHostClients } from './host-clients';
import { hostPath } from './hosts';
import { LAB_LOCAL_POOL, labSharedPool, poolDirOutside, virshOn } from './storage';
import { startPlacement } from './placement';
import { waitFor } from './proc';
import { requireLabState, writeLabState, type LabHost, type LabState, type LabVm } from './state';
import { labPmemAssignmentsDir, resetPmemNamespace } from './pmem';
import { assignNamespaces } from '../model/pmem/assignment';
import { pmemInventory, type PmemNamespace } from '../model/pmem/namespace';
import { domainsPmemUse, pmemClaimants, providerTree } from '../activities/pmem/destination-facts';
import { PmemAssignmentRecords } from '../activities/pmem/records';

/** Lab VMs: the test guest defined and started on a lab host, with its Placement allocation. */

/** Project and user that own lab VMs in Placement (noauth2 accepts any). */
export const LAB_PROJECT_ID = '00000000-0000-4000-8000-00000000f0e1';
export const LAB_USER_ID = '00000000-0000-4000-8000-00000000f0e2';

const KERNEL_INSIDE = '/var/lib/libvirt/boot/ferry-guest.elf';
export const serialInside = (vm: string) => `/var/log/libvirt/qemu/${vm}-serial.log`;

export interface CreateVmOptions {
  name: string;
  host: string;
  memoryMiB: number;
  vcpus?: number;
  rateMiBps: number | 'max';
  wssMiB?: number;
  /** MiB/s the working set slides through RAM (needs wssMiB). */
  driftMiBps?: number;
  /** A VNC console with this password (tests of secrets kept out of history and logs). */
  graphicsPassword?: string;
  /** The QEMU binary, absolute (absent: the host's own); lab/legacy-qemu.ts installs Debian 12's. */
  emulator?: string;
  /** vPMEM: this many nvdimms, each on a free persistent-memory namespace of the host, held in Placement. */
  vpmem?: number;
  /** Written at offset 0 of each of its namespaces before the guest starts (the host's write a test looks for after a move). */
  vpmemSeed?: Buffer;
  /**
   * A disk the guest writes continuously and a checker reads afterwards (lab/guest/disk-check.ts),
   * as a volume of the host's local pool (moved by block migration) or of the shared pool.
   */
  disk?: LabDiskOptions;
}

export interface LabDiskOptions {
  pool: 'local' | 'shared';
  sizeMiB: number;
  /** 4 KiB blocks the guest writes a second (each flushed before it counts). */
  blocksPerSecond: number;
  format?: 'raw' | 'qcow2';
  /**
   * Bytes written at the start of the volume before the guest starts: data a block migration
   * must carry (the guest's own ring overwrites it slot by slot as it goes).
   */
  fillMiB?: number;
}

export function validateCreateVm(o: CreateVmOptions, state: LabState): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(o.name)) {
    throw new Error(`name must be 1-63 letters, digits, '.', '_' or '-' (starting with a letter or digit), got '${o.name}'`);
  }
  if (!state.hosts.some((h) => h.name === o.host)) {
    throw new Error(`--host must be one of ${state.hosts.map((h) => h.name).join(', ')}, got '${o.host}'`);
  }
  if (!Number.isInteger(o.memoryMiB) || o.memoryMiB < 32 || o.memoryMiB > 3072) {
    throw new Error(`--mem must be a whole number of MiB from 32 to 3072, got ${o.memoryMiB}`);
  }
  if (o.rateMiBps !== 'max' && !(Number.isInteger(o.rateMiBps) && o.rateMiBps >= 0)) {
    throw new Error(`--rate must be a whole number of MiB/s (0 = idle) or 'max', got ${o.rateMiBps}`);
  }
  if (o.wssMiB !== undefined && !(Number.isInteger(o.wssMiB) && o.wssMiB > 0 && o.wssMiB < o.memoryMiB)) {
    throw new Error(`--wss must be a whole number of MiB above 0 and below --mem (${o.memoryMiB}), got ${o.wssMiB}`);
  }
  if (o.driftMiBps !== undefined && !(Number.isInteger(o.driftMiBps) && o.driftMiBps >= 0 && o.driftMiBps <= 4096)) {
    throw new Error(`--drift must be a whole number of MiB/s from 0 to 4096, got ${o.driftMiBps}`);
  }
  if (o.graphicsPassword !== undefined && !/^[\x21-\x7e]{1,8}$/.test(o.graphicsPassword)) {
    throw new Error('graphicsPassword must be 1 to 8 printable characters (libvirt refuses longer VNC passwords)');
  }
  if (o.emulator !== undefined && !(o.emulator.startsWith('/') && fs.existsSync(o.emulator))) {
    throw new Error(`emulator must be the absolute path of a QEMU binary that exists, got '${o.emulator}'`);
  }
  if (o.vpmem !== undefined) {
    const host = state.hosts.find((h) => h.name === o.host)!;
    if (!Number.isInteger(o.vpmem) || o.vpmem < 1 || o.vpmem > Math.max(1, host.pmemNamespaces.length)) {
      throw new Error(`vpmem must be a whole number from 1 to the ${host.pmemNamespaces.length} persistent-memory namespaces of ${host.name}, got ${o.vpmem}`);
    }
    if (host.pmemNamespaces.length === 0) throw new Error(`${host.name} has no persistent-memory namespaces: bring the lab up with some (pmemNamespaces)`);
  }
  if (o.disk !== undefined) {
    const d = o.disk;
    if (d.pool !== 'local' && d.pool !== 'shared') throw new Error(`disk.pool must be 'local' or 'shared', got ${JSON.stringify(d.pool)}`);
    if (!Number.isInteger(d.sizeMiB) || d.sizeMiB < 1 || d.sizeMiB > 4096) throw new Error(`disk.sizeMiB must be a whole number of MiB from 1 to 4096, got ${d.sizeMiB}`);
    if (d.format !== undefined && d.format !== 'raw' && d.format !== 'qcow2') throw new Error(`disk.format must be 'raw' or 'qcow2', got ${JSON.stringify(d.format)}`);
    if (d.fillMiB !== undefined && !(Number.isInteger(d.fillMiB) && d.fillMiB >= 0 && d.fillMiB <= d.sizeMiB)) {
      throw new Error(`disk.fillMiB must be a whole number of MiB from 0 to disk.sizeMiB (${d.sizeMiB}), got ${d.fillMiB}`);
    }
    if ((d.format ?? 'raw') === 'qcow2' && d.fillMiB) throw new Error('disk.fillMiB works on raw volumes only');
  }
  if (o.vpmemSeed !== undefined && o.vpmem === undefined) throw new Error('vpmemSeed needs vpmem: a guest without namespaces has nowhere to hold it');
  if (o.driftMiBps && o.wssMiB === undefined) {
    throw new Error('--drift needs --wss: a working set that covers all RAM has nowhere to move');
  }
}

/** Every host gets the guest kernel at the same path, as a shared image store would give it. */
async function installKernelOnHosts(state: LabState): Promise<void> {
  const elf = await ensureGuestBuilt();
  for (const h of state.hosts) {
    const dest = hostPath(h.name, KERNEL_INSIDE);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.copyFileSync(elf, dest);
  }
}

async function labPlacement(): Promise<PlacementClient> {
  return new PlacementClient({ baseUrl: (await startPlacement()).url });
}

/**
 * Defines and starts the guest on the host, waits for its first heartbeat, allocates its resources
 * on the host's provider. Refuses a name that any lab host already has.
 */
export async function createLabVm(o: CreateVmOptions): Promise<LabVm> {
  const state = requireLabState();
  validateCreateVm(o, state);
  await withHostClients(state.hosts, async (clients) => {
    for (const [host, c] of clients) {
      if (await findDomain(c, o.name)) throw new Error(`a VM named '${o.name}' exists already on ${host}`);
    }
  });
  const host = state.hosts.find((h) => h.name === o.host)!;
  const vmUuid = randomUUID();
  const namespaces = o.vpmem ? await freeLabNamespaces(host, { name: o.name, uuid: vmUuid }, o.vpmem) : [];
  for (const ns of namespaces) resetPmemNamespace(host.name, ns, o.vpmemSeed);
  await installKernelOnHosts(state);
  for (const h of state.hosts) fs.rmSync(hostPath(h.name, serialInside(o.name)), { force: true });

  const vm: LabVm = {
    name: o.name,
    uuid: vmUuid,
    memoryMiB: o.memoryMiB,
    vcpus: o.vcpus ?? 1,
    rateMiBps: o.rateMiBps,
    wssMiB: o.wssMiB ?? null,
    stallMark: null,
    ...(o.disk ? { disk: await createLabDisk(host.name, o.name, o.disk) } : {}),
  };
  const xml = guestDomainXml({
    name: vm.name,
    uuid: vm.uuid,
    memoryMiB: vm.memoryMiB,
    vcpus: vm.vcpus,
    accel: state.accel,
    kernelPath: KERNEL_INSIDE,
    rateMiBps: vm.rateMiBps,
    wssMiB: vm.wssMiB ?? undefined,
    driftMiBps: o.driftMiBps,
    serialLogPath: serialInside(vm.name),
    ...(o.graphicsPassword !== undefined ? { graphicsPassword: o.graphicsPassword } : {}),
    ...(o.emulator !== undefined ? { emulator: o.emulator } : {}),
    ...(namespaces.length ? { vpmem: namespaces.map((ns) => ({ path: ns.path, sizeMiB: ns.sizeMiB })) } : {}),
    ...(vm.disk ? { disk: { path: vm.disk.path, format: vm.disk.format, blocksPerSecond: vm.disk.blocksPerSecond } } : {}),
  });
  await withHostClient(o.host, async (c) => {
    const dom = await c.domainDefineXml(xml);
    await c.domainCreate(dom);
  });
  // With a disk: a heartbeat that reports an acknowledged write, so the disk is known to work.
  await waitFor(`the first heartbeat of ${vm.name}${vm.disk ? ' with a write acknowledged on its disk' : ''}`, async () => {
    const hb = latestHeartbeat(await vmSerial(vm.name));
    return vm.disk ? (hb?.diskAck ?? 0) > 0 : hb;
  }, {
    timeoutMs: 60_000,
    intervalMs: 250,
  });
  await allocateVmOnProvider(await labPlacement(), {
    vmUuid: vm.uuid,
    rpUuid: host.uuid,
    vcpus: vm.vcpus,
    memoryMb: vm.memoryMiB,
    // A local disk uses the host's DISK_GB (as Nova counts a local root disk); a shared one does not.
    diskGb: vm.disk?.pool === 'local' ? Math.ceil(vm.disk.sizeMiB / 1024) : 0,
    ...(namespaces.length ? { custom: pmemInventory(namespaces) } : {}),
    projectId: LAB_PROJECT_ID,
    userId: LAB_USER_ID,
  });
  const fresh = requireLabState();
  writeLabState({ ...fresh, vms: [...fresh.vms.filter((v) => v.name !== vm.name), vm] });
  return vm;
}

/**
 * The guest's volume in the host's pool, made fresh: an old one of the same name (a VM deleted
 * without its disk) is replaced, since the checker judges the image from this boot on.
 */
async function createLabDisk(hostName: string, vmName: string, d: LabDiskOptions): Promise<NonNullable<LabVm['disk']>> {
  const pool = d.pool === 'local' ? LAB_LOCAL_POOL : labSharedPool();
  const format = d.format ?? 'raw';
  const volume = `${vmName}.${format}`;
  await removeLabVolume(hostName, pool.name, volume);
  await virshOn(hostName, ['vol-create-as', pool.name, volume, `${d.sizeMiB}M`, '--format', format]);
  const path = `${pool.path}/${volume}`;
  if (d.fillMiB) {
    const fd = fs.openSync(`${poolDirOutside(hostName, pool)}/${volume}`, 'r+');
    try {
      const chunk = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < d.fillMiB; i++) {
        chunk.fill(`ferry-lab-fill ${vmName} MiB ${i} `);
        fs.writeSync(fd, chunk, 0, chunk.length, i * chunk.length);
      }
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
  return { pool: d.pool, volume, path, format, sizeMiB: d.sizeMiB, blocksPerSecond: d.blocksPerSecond };
}

/** Deletes the volume from the host's pool if it is there (the pool refreshed first: files change behind it). */
export async function removeLabVolume(hostName: string, poolName: string, volume: string): Promise<boolean> {
  await virshOn(hostName, ['pool-refresh', poolName]);
  const list = await virshOn(hostName, ['vol-list', poolName]);
  if (!list.split('\n').some((l) => l.trim().split(/\s+/)[0] === volume)) return false;
  await virshOn(hostName, ['vol-delete', '--pool', poolName, volume]);
  return true;
}

/**
 * Free namespaces of the host for a new guest, by the same rule a migration's assignment follows
 * (model/pmem/assignment.ts): not used by a domain there, not recorded for a migration whose VM
 * still holds its claim; the first ones in name order. The guest's domain holds them once defined.
 */
async function freeLabNamespaces(host: LabHost, vm: { name: string; uuid: string }, count: number): Promise<PmemNamespace[]> {
  const sizeMiB = host.pmemNamespaces[0]!.sizeMiB;
  const records = new PmemAssignmentRecords(labPmemAssignmentsDir(host.name)).list();
  const placement = await labPlacement();
  const decision = assignNamespaces({
    host: host.name,
    migrationId: `lab-create-${vm.uuid}`,
    vm,
    devices: Array.from({ length: count }, (_, i) => ({ path: `/new-vpmem-device-${i}`, sizeMiB })),
    namespaces: host.pmemNamespaces,
    claimed: pmemInventory(Array.from({ length: count }, () => ({ sizeMiB }))),
    domains: await withHostClient(host.name, (c) => domainsPmemUse(c)),
    records,
    claimants: await pmemClaimants(placement, records.map((r) => r.vmUuid), await providerTree(placement, host.uuid)),
  });
  if (!decision.ok) throw new Error(`cannot give ${vm.name} ${count} vPMEM namespace(s) on ${host.name}: ${decision.reason}`);
  return decision.assigned.map((a) => host.pmemNamespaces.find((ns) => ns.name === a.namespace)!);
}

export function requireLabVm(name: string, state = requireLabState()): LabVm {
  const vm = state.vms.find((v) => v.name === name);
  if (!vm) {
    const known = state.vms.map((v) => v.name).join(', ') || 'none';
    throw new Error(`no lab VM named '${name}' (lab VMs: ${known})`);
  }
  return vm;
}

/** The guest's serial log as written on every host it ran on, merged. */
/** One host's own serial log of the VM (not merged with the others': see guest/continuity.ts). */
export async function vmSerialOn(name: string, host: string): Promise<ParsedSerial> {
  return readGuestSerial(hostPath(host, serialInside(name)), { missingOk: true });
}

export async function vmSerial(name: string, state = requireLabState()): Promise<ParsedSerial> {
  const logs = await Promise.all(
    state.hosts.map((h) => readGuestSerial(hostPath(h.name, serialInside(name)), { missingOk: true })),
  );
  return mergeGuestSerial(logs);
}

export async function vmLatestHeartbeat(name: string): Promise<Heartbeat | undefined> {
  return latestHeartbeat(await vmSerial(name));
}

export interface VmPlacement {
  host: string | null;
  state: string;
  /** Every host that has a definition or a running domain of this VM. */
  presentOn: Array<{ host: string; state: string; reason: string }>;
}

/** Where the VM is: the host where it runs (or is paused), and every host that knows it. */
export async function locateVm(name: string, state = requireLabState()): Promise<VmPlacement> {
  return withHostClients(state.hosts, async (clients) => locateWith(clients, name));
}

export async function locateWith(clients: Map<string, LibvirtClient>, name: string): Promise<VmPlacement> {
  const presentOn: VmPlacement['presentOn'] = [];
  for (const [host, c] of clients) {
    const found = await findDomain(c, name);
    if (found) presentOn.push({ host, state: found.state.stateName, reason: found.state.reasonName });
  }
  const active = presentOn.filter((p) => p.state === 'running' || p.state === 'paused');
  const running = active.find((p) => p.state === 'running') ?? active[0];
  return { host: running?.host ?? null, state: running ? `${running.state}` : presentOn[0]?.state ?? 'absent', presentOn };
}

/** The stall the guest felt since the last reset (or since boot). */
export async function vmStall(name: string): Promise<StallReport> {
  const vm = requireLabVm(name);
  const serial = await vmSerial(name);
  const mark = vm.stallMark ?? firstMark(serial);
  if (!mark) throw new Error(`no heartbeat from '${name}' yet`);
  return stallSince(serial, mark);
}

function firstMark(serial: ParsedSerial) {
  const first = serial.heartbeats[0];
  return first && { boot: first.boot, seq: first.seq, edge: first.edge, stoptotUs: first.stoptotUs, byteOffset: first.byteOffset };
}

/** Resets the guest's stall meter: later reports count only heartbeats after this moment. */
export async function resetVmStall(name: string): Promise<void> {
  const state = requireLabState();
  requireLabVm(name, state);
  const mark = markNow(await vmSerial(name, state));
  if (!mark) throw new Error(`no heartbeat from '${name}' yet`);
  writeLabState({ ...state, vms: state.vms.map((v) => (v.name === name ? { ...v, stallMark: mark } : v)) });
}

/** Removes the VM from every host and from Placement. Idempotent. */
export async function deleteLabVm(name: string): Promise<void> {
  const state = requireLabState();
  const vm = state.vms.find((v) => v.name === name);
  await withHostClients(state.hosts, async (clients) => {
    for (const c of clients.values()) {
      const found = await findDomain(c, name);
      if (!found) continue;
      if (found.state.state === DomainState.Running || found.state.state === DomainState.Paused) {
        await c.domainDestroy(found.dom);
      }
      await c.domainUndefine(found.dom).catch(() => undefined);
    }
  });
  if (vm) await (await labPlacement()).deleteAllocations(vm.uuid);
  if (vm?.disk) {
    // The local pool holds a copy on every host the VM went through; the shared one a single file.
    const pool = vm.disk.pool === 'local' ? LAB_LOCAL_POOL : labSharedPool();
    for (const h of vm.disk.pool === 'local' ? state.hosts : state.hosts.slice(0, 1)) await removeLabVolume(h.name, pool.name, vm.disk.volume);
  }
  writeLabState({ ...state, vms: state.vms.filter((v) => v.name !== name) });
}
