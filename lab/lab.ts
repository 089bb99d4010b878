import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { resolveAccel, type Accel } from './accel';
import { closeFaultJournal, observeFaults, recordHealedByLabUp } from './faults';
import { hostDir, hostIsUp, hostUri, startHost, stopHost } from './hosts';
import {
  LAB_SUBNET, lanNetns, clearPartitions, deleteNetns, ensureHostNetwork, ensureLan, hostAddress, hostLinkUp, hostNetns, listNetns,
  setLinkCap, waitLinkCarries,
} from './network';
import { labDir } from './paths';
import { DEFAULT_PMEM_NAMESPACE_MIB, DEFAULT_PMEM_NAMESPACES, ensurePmemFiles, labPmemNamespaces } from './pmem';
import { pmemInventory } from '../model/pmem/namespace';
import { ensureLabPools } from './storage';
import { ensureSystemPackages } from './packages';
import type { Progress } from './progress';
import { readLabState, writeLabState, type LabHost, type LabState } from './state';
import { ensureTemporalCli, startTemporal, stopTemporal } from './temporal';
import { ensurePlacementInstalled, startPlacement, stopPlacement } from './placement';
import { PlacementClient, ensureHostProvider } from '../activities/placement';

export interface LabUpOptions {
  /** How many hosts; undefined keeps the running lab's count (or the default for a new lab). */
  hosts: number | undefined;
  /** undefined keeps the running lab's accelerator (a new lab probes: KVM if usable, else TCG). */
  accel: 'auto' | Accel | undefined;
  /** Per-host link cap in Mbit/s; null removes caps; undefined leaves each host's cap as it is. */
  linkMbps: number | null | undefined;
  hostVcpus: number;
  hostMemoryMb: number;
  hostDiskGb: number;
  /** Persistent-memory namespaces per host (file-backed, lab/pmem.ts) and their size in MiB. */
  pmemNamespaces: number;
  pmemNamespaceMiB: number;
}

export const DEFAULT_HOST_COUNT = 2;

export const DEFAULT_LAB: LabUpOptions = {
  hosts: undefined,
  accel: undefined,
  linkMbps: undefined,
  hostVcpus: 16,
  hostMemoryMb: 16384,
  hostDiskGb: 40,
  pmemNamespaces: DEFAULT_PMEM_NAMESPACES,
  pmemNamespaceMiB: DEFAULT_PMEM_NAMESPACE_MIB,
};

const HOST_NAMES = 'abcdefgh'.split('').map((c) => `host-${c}`);
export const MAX_LAB_HOSTS = HOST_NAMES.length;

export function validateLabUpOptions(opts: LabUpOptions): void {
  if (opts.hosts !== undefined && (!Number.isInteger(opts.hosts) || opts.hosts < 2 || opts.hosts > MAX_LAB_HOSTS)) {
    throw new Error(`--hosts must be a whole number from 2 to ${MAX_LAB_HOSTS}, got ${opts.hosts}`);
  }
  if (typeof opts.linkMbps === 'number' && !(opts.linkMbps > 0 && opts.linkMbps <= 100_000)) {
    throw new Error(`--link-mbps must be a number above 0 and at most 100000, got ${opts.linkMbps}`);
  }
  labPmemNamespaces(opts.pmemNamespaces, opts.pmemNamespaceMiB);
}

/** The host UUID a host's daemon was configured with, if the host was ever set up. */
function configuredHostUuid(name: string): string | undefined {
  try {
    return /host_uuid = "([0-9a-f-]{36})"/.exec(fs.readFileSync(`${hostDir(name)}/etc/libvirtd.conf`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** Keeps the identity (UUID) of hosts that exist already, so a second `lab up` changes nothing. */
function planHosts(opts: LabUpOptions, previous: LabState | undefined): LabHost[] {
  return HOST_NAMES.slice(0, opts.hosts).map((name, i) => {
    const old = previous?.hosts.find((h) => h.name === name);
    return {
      name,
      index: i + 1,
      uuid: old?.uuid ?? configuredHostUuid(name) ?? randomUUID(),
      address: hostAddress(i + 1),
      netns: hostNetns(name),
      dir: hostDir(name),
      vcpus: opts.hostVcpus,
      memoryMb: opts.hostMemoryMb,
      diskGb: opts.hostDiskGb,
      linkMbps: opts.linkMbps === undefined ? old?.linkMbps ?? null : opts.linkMbps,
      pmemNamespaces: labPmemNamespaces(opts.pmemNamespaces, opts.pmemNamespaceMiB),
    };
  });
}

export type { Progress } from './progress';

/**
 * Brings the whole lab up: Temporal dev server, Placement with one provider per host, the
 * libvirt hosts. Idempotent: what already runs is reused, never stopped or replaced, and
 * whatever part is down is brought back (a host's dead daemon, a cut link, a partition, a
 * stopped Placement or Temporal on its SQLite file): the heal-everything of lab/faults.ts.
 */
export async function labUp(opts: LabUpOptions, say: Progress = () => undefined): Promise<LabState> {
  validateLabUpOptions(opts);
  const before = await observeFaults();
  const state = await labUpHosts(opts, say);
  await ensureTemporalCli();
  const temporal = await startTemporal();
  say(`temporal ${temporal.reused ? 'running' : 'started'} at ${temporal.address} (web UI ${temporal.uiUrl})`);
  await ensurePlacementInstalled();
  const placement = await startPlacement();
  say(`placement ${placement.reused ? 'running' : 'started'} at ${placement.url}`);
  const client = new PlacementClient({ baseUrl: placement.url });
  for (const host of state.hosts) {
    await ensureHostProvider(client, {
      name: host.name, uuid: host.uuid, vcpus: host.vcpus, memoryMb: host.memoryMb, diskGb: host.diskGb,
      custom: pmemInventory(host.pmemNamespaces),
    });
  }
  const pmem = Object.entries(pmemInventory(state.hosts[0]?.pmemNamespaces ?? [])).map(([rc, n]) => `${n} ${rc}`).join(', ');
  say(`placement: one resource provider per host (${state.hosts.map((h) => h.name).join(', ')})${pmem ? `, each with ${pmem}` : ''}`);
  for (const d of (await recordHealedByLabUp(before)).filter((h) => h.since !== null)) say(`healed: ${d.what} (was ${d.detail}${d.since ? `, since ${d.since}` : ''})`);
  return state;
}

/** Brings the lab's hosts up (network namespaces and libvirt daemons only). Idempotent. */
export async function labUpHosts(opts: LabUpOptions, say: Progress = () => undefined): Promise<LabState> {
  validateLabUpOptions(opts);
  await ensureSystemPackages(say);
  const previous = readLabState();
  const accel = opts.accel === undefined ? previous?.accel ?? resolveAccel('auto') : resolveAccel(opts.accel);
  const count = opts.hosts ?? previous?.hosts.length ?? DEFAULT_HOST_COUNT;
  const hosts = planHosts({ ...opts, hosts: count }, previous);
  // Fewer hosts than before: the extra ones are stopped, not forgotten while still running.
  for (const gone of previous?.hosts.filter((h) => !hosts.some((n) => n.name === h.name)) ?? []) {
    await stopHost(gone.name);
    await deleteNetns(hostNetns(gone.name));
    say(`host ${gone.name} stopped (lab now has ${count} hosts)`);
  }
  await ensureLan();
  for (const host of hosts) {
    const wasCut = (await hostLinkUp(host.name)) === false;
    await ensureHostNetwork(host.name, host.address);
    if (wasCut) {
      await waitLinkCarries(host.name);
      say(`host ${host.name}: link was cut, plugged back in`);
    }
    const freed = await clearPartitions(host.name);
    if (freed.length > 0) say(`host ${host.name}: partition from ${freed.join(', ')} removed`);
    // Only when asked: a test or a benchmark may have capped a link on purpose.
    if (opts.linkMbps !== undefined) await setLinkCap(host.name, host.linkMbps);
  }
  // Re-read the VMs just before writing: a VM created meanwhile must not drop out of the state.
  const state: LabState = { accel, subnet: LAB_SUBNET, lanNetns: lanNetns(), hosts, vms: readLabState()?.vms ?? [] };
  writeLabState(state);
  for (const host of hosts) {
    // Before the daemons: a guest defined on a namespace finds its backing when libvirtd restarts it.
    const created = ensurePmemFiles(host.name, host.pmemNamespaces).filter((p) => p.action === 'create');
    if (created.length > 0) say(`host ${host.name}: ${created.length} persistent-memory namespace file(s) created`);
    const r = await startHost(host, hosts);
    const how =
      r.started.length === 0 ? '' :
      r.namespaces === 'joined' ? `; started ${r.started.join(' and ')} in the namespaces of pid ${r.joinedPid}, which kept running` :
      `; started ${r.started.join(' and ')}`;
    say(`host ${host.name} up (${host.address}, ${hostUri(host.name)})${how}`);
    const pools = await ensureLabPools(host.name);
    if (pools.length > 0) say(`host ${host.name}: storage pools ${pools.join(', ')}`);
  }
  return state;
}

/** Stops everything the lab started (hosts, Temporal, Placement). Keeps built tools and data files. */
export async function labDown(say: Progress = () => undefined): Promise<void> {
  await labDownHosts(say);
  await stopTemporal();
  say('temporal stopped');
  await stopPlacement();
  say('placement stopped');
  closeFaultJournal();
}

/** Stops every lab host's processes and removes the lab's namespaces. Keeps built tools. */
export async function labDownHosts(say: Progress = () => undefined): Promise<void> {
  const state = readLabState();
  const names = new Set(state?.hosts.map((h) => h.name) ?? []);
  const hostsRoot = `${labDir()}/hosts`;
  if (fs.existsSync(hostsRoot)) for (const n of fs.readdirSync(hostsRoot)) names.add(n);
  for (const name of names) {
    await stopHost(name);
    say(`host ${name} stopped`);
  }
  const ours = (await listNetns()).filter((n) => n === lanNetns() || [...names].some((h) => n === hostNetns(h)));
  for (const ns of ours) await deleteNetns(ns);
  if (state) writeLabState({ ...state, vms: [] });
}

export async function hostsStatus(state: LabState): Promise<Array<{ host: LabHost; up: boolean }>> {
  return Promise.all(state.hosts.map(async (host) => ({ host, up: await hostIsUp(host.name) })));
}
