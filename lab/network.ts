import { netnsPrefix } from './paths';
import { run } from './proc';

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

/** Creates the host's namespace and plugs it into the bridge with its address. Idempotent. */
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
