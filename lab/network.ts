import fs from 'node:fs';
import { netnsPrefix } from './paths';
import { run, waitFor } from './proc';

/**
 * The lab's network: one namespace per host, joined by a bridge that lives in a namespace of its
 * own, so the root namespace gets no interface, address or route. The addresses exist only
 * inside these namespaces.
 */

/** The namespace that holds the bridge. */
export function lanNetns(): string {
  return `${netnsPrefix()}lan`;
}
const BRIDGE = 'br0';

export function hostNetns(hostName: string): string {
  return `${netnsPrefix()}${hostName}`;
}

/** 10.77.0.11 for host 1, .12 for host 2, …: only ever routed inside the lab's namespaces. */
export function hostAddress(index: number): string {
  return `10.77.0.${10 + index}`;
}
export const LAB_SUBNET = '10.77.0.0/24';
const inLabSubnet = (address: string) => /^10\.77\.0\.\d{1,3}$/.test(address);

export async function listNetns(): Promise<string[]> {
  const out = await run('ip', ['-o', 'netns', 'list']);
  return out
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0])
    .filter((name): name is string => Boolean(name));
}

async function ensureNetns(name: string, existing: string[]): Promise<boolean> {
  if (existing.includes(name)) return false;
  await run('ip', ['netns', 'add', name]);
  await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return true;
}

export async function ensureLan(): Promise<void> {
  const existing = await listNetns();
  await ensureNetns(lanNetns(), existing);
  const links = await run('ip', ['-n', lanNetns(), '-o', 'link', 'show']);
  if (!links.includes(` ${BRIDGE}:`)) {
    await run('ip', ['-n', lanNetns(), 'link', 'add', BRIDGE, 'type', 'bridge']);
  }
  await run('ip', ['-n', lanNetns(), 'link', 'set', BRIDGE, 'up']);
}

/**
 * Creates the host's namespace and plugs it into the bridge with its address. Idempotent; plugs a
 * cut link back in (cutHostLink), and leaves partitions between two hosts alone (clearPartitions).
 */
export async function ensureHostNetwork(hostName: string, address: string): Promise<void> {
  const ns = hostNetns(hostName);
  await ensureNetns(ns, await listNetns());
  const hostLinks = await run('ip', ['-n', ns, '-o', 'link', 'show']);
  if (!hostLinks.includes(' eth0@')) {
    // The bridge-side end is named after the host, so `ip -n ferry-lan link` reads like a map.
    await run('ip', ['link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', hostName, 'netns', lanNetns()]);
  }
  await run('ip', ['-n', lanNetns(), 'link', 'set', hostName, 'master', BRIDGE, 'up']);
  const addrs = await run('ip', ['-n', ns, '-o', 'addr', 'show', 'dev', 'eth0']);
  if (!addrs.includes(`${address}/`)) {
    await run('ip', ['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
  }
  await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
}

/**
 * Caps what the host can send (migration streams go source -> destination) with a token bucket,
 * so "the guest dirties faster than the link" is reproducible. null removes the cap.
 */
export async function setLinkCap(hostName: string, mbps: number | null): Promise<void> {
  const ns = hostNetns(hostName);
  await run('tc', ['-n', ns, 'qdisc', 'del', 'dev', 'eth0', 'root']).catch(() => undefined);
  if (mbps === null) return;
  // burst must hold at least one timer tick of traffic at this rate; 64 KiB minimum.
  const burstBytes = Math.max(65_536, Math.ceil((mbps * 1e6) / 8 / 250));
  await run('tc', [
    '-n', ns, 'qdisc', 'add', 'dev', 'eth0', 'root', 'tbf',
    'rate', `${mbps}mbit`, 'burst', `${burstBytes}`, 'latency', '50ms',
  ]);
}

export async function deleteNetns(name: string): Promise<void> {
  if ((await listNetns()).includes(name)) await run('ip', ['netns', 'del', name]);
}

/** The inode of a named network namespace (`ip netns` keeps it under /run/netns), undefined when it does not exist. */
export function netnsInode(name: string): number | undefined {
  try {
    return fs.statSync(`/run/netns/${name}`).ino;
  } catch {
    return undefined;
  }
}

/** True when the process lives in that named network namespace. */
export function processInNetns(pid: number, name: string): boolean {
  const ino = netnsInode(name);
  if (ino === undefined) return false;
  try {
    return fs.statSync(`/proc/${pid}/ns/net`).ino === ino;
  } catch {
    return false;
  }
}

// ---- faults: a cut link, a partition between two hosts ------------------------------------

/**
 * Whether the host's cable is plugged: its bridge-side veth end (in the LAN namespace) is up.
 * undefined when the host has no link at all (its network was never set up, or was removed).
 */
export async function hostLinkUp(hostName: string): Promise<boolean | undefined> {
  try {
    const [link] = JSON.parse(await run('ip', ['-j', '-n', lanNetns(), 'link', 'show', 'dev', hostName])) as Array<{ flags?: string[] }>;
    return link ? (link.flags ?? []).includes('UP') : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Cuts the host's link: its bridge-side veth end goes down, so the host's eth0 loses carrier and
 * every packet to or from the other hosts is lost (connections hang, as on a pulled cable). The
 * host keeps its address and its daemons. Returns false when it was cut already.
 */
export async function cutHostLink(hostName: string): Promise<boolean> {
  const up = await hostLinkUp(hostName);
  if (up === undefined) throw new Error(`host ${hostName} has no link in ${lanNetns()}: bring the lab up first`);
  if (!up) return false;
  await run('ip', ['-n', lanNetns(), 'link', 'set', 'dev', hostName, 'down']);
  return true;
}

/**
 * Waits until a plugged link carries traffic: the host's eth0 has carrier and its bridge port
 * forwards (right after `link set up` the first packets may still be lost).
 */
export async function waitLinkCarries(hostName: string, timeoutMs = 10_000): Promise<void> {
  await waitFor(`the link of ${hostName} to carry traffic`, async () => {
    const [eth0] = JSON.parse(await run('ip', ['-j', '-n', hostNetns(hostName), 'link', 'show', 'dev', 'eth0'])) as Array<{ operstate?: string }>;
    const [port] = JSON.parse(await run('ip', ['-j', '-d', '-n', lanNetns(), 'link', 'show', 'dev', hostName])) as Array<{
      linkinfo?: { info_slave_data?: { state?: string } };
    }>;
    return eth0?.operstate === 'UP' && port?.linkinfo?.info_slave_data?.state === 'forwarding';
  }, { timeoutMs, intervalMs: 50 });
}

/** The lab addresses this host cannot reach because of a partition (blackhole routes in its namespace). */
export async function partitionedAddresses(hostName: string): Promise<string[]> {
  try {
    const routes = JSON.parse(await run('ip', ['-j', '-n', hostNetns(hostName), 'route', 'show', 'type', 'blackhole'])) as Array<{ dst?: string }>;
    return routes.map((r) => r.dst ?? '').filter(inLabSubnet);
  } catch {
    return [];
  }
}

/**
 * Cuts the path between two hosts only, both ways: each drops what it sends to the other (a
 * blackhole route in each namespace; this kernel has no tc drop action and no netfilter tools).
 * Both keep their link to every other host. Returns false when the two were cut already.
 */
export async function cutBetween(a: { name: string; address: string }, b: { name: string; address: string }): Promise<boolean> {
  if (a.name === b.name) throw new Error(`cannot cut ${a.name} from itself`);
  let changed = false;
  for (const [from, to] of [[a, b], [b, a]] as const) {
    if ((await partitionedAddresses(from.name)).includes(to.address)) continue;
    await run('ip', ['-n', hostNetns(from.name), 'route', 'replace', 'blackhole', `${to.address}/32`]);
    changed = true;
  }
  return changed;
}

/** Restores the path between two hosts. Returns false when it was not cut. */
export async function restoreBetween(a: { name: string; address: string }, b: { name: string; address: string }): Promise<boolean> {
  let changed = false;
  for (const [from, to] of [[a, b], [b, a]] as const) {
    if (!(await partitionedAddresses(from.name)).includes(to.address)) continue;
    await run('ip', ['-n', hostNetns(from.name), 'route', 'del', 'blackhole', `${to.address}/32`]);
    changed = true;
  }
  return changed;
}

/** Removes every partition of this host (its blackhole routes to lab addresses); returns the addresses freed. */
export async function clearPartitions(hostName: string): Promise<string[]> {
  const cut = await partitionedAddresses(hostName);
  for (const address of cut) {
    await run('ip', ['-n', hostNetns(hostName), 'route', 'del', 'blackhole', `${address}/32`]);
  }
  return cut;
}
