/**
 * The lab's fault matrix: each fault the lab can inflict on itself, on its own, and heal again.
 *
 *   daemon   one daemon of one host (libvirtd or virtlogd) killed with SIGKILL; healed by
 *            starting that daemon alone, inside the namespaces of what still runs on the host
 *            (its guests keep running; a restarted libvirtd reconnects to them)
 *   link     one host's link cut (its bridge-side veth down: a pulled cable), or only the path
 *            between two hosts (blackhole routes both ways); healed by plugging it back
 *   service  Placement or the Temporal dev server killed with SIGKILL; healed by starting it
 *            again on its SQLite file (providers, allocations, workflow histories survive)
 *
 * A worker is the tests' own process, not the lab's: there is nothing to inflict on it here.
 *
 * Every inflict and heal is idempotent and returns what it did and when; it is also appended to
 * a journal (<lab dir>/faults.jsonl), from which `ferry lab status` tells since when something is
 * down. What is down is always observed, never taken from the journal: a daemon that crashed on
 * its own shows up too. `ferry lab up` heals everything at once (lab/lab.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import {
  HOST_DAEMONS, hostDaemonPidOf, hostSocketPath, hostVirtlogdSocketPath, killHostDaemon, socketAccepts, startHostDaemons, type HostDaemon,
} from './hosts';
import {
  cutBetween, cutHostLink, ensureHostNetwork, hostLinkUp, partitionedAddresses, restoreBetween, waitLinkCarries,
} from './network';
import { labDir } from './paths';
import { killPlacement, placementStatus, startPlacement } from './placement';
import { readLabState, requireLabState, type LabHost, type LabState } from './state';
import { killTemporal, startTemporal, temporalStatus } from './temporal';

export const LAB_SERVICES = ['placement', 'temporal'] as const;
export type LabService = (typeof LAB_SERVICES)[number];

export const LabFaultSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('daemon'), host: z.string(), daemon: z.enum(HOST_DAEMONS) }),
  /** peer null: the host's whole link; else only the path between host and peer. */
  z.object({ kind: z.literal('link'), host: z.string(), peer: z.string().nullable() }),
  z.object({ kind: z.literal('service'), service: z.enum(LAB_SERVICES) }),
]);
export type LabFault = z.infer<typeof LabFaultSchema>;

export const FaultEventSchema = z.object({
  /** When the fault took effect (inflict) or was gone (heal), ISO 8601. */
  at: z.string(),
  action: z.enum(['inflict', 'heal']),
  fault: LabFaultSchema,
  /** The fault in words: "libvirtd of host-a", "link of host-b", "link host-a <-> host-c", "placement". */
  what: z.string(),
  /** false when it was so already (a second kill of a dead daemon, a heal of what runs). */
  changed: z.boolean(),
  /** What was done: "SIGKILL pid 1234", "started (pid 5678) in the namespaces of pid 1200", … */
  detail: z.string(),
  /** Who did it: a fault function (or `ferry lab fault …`), or `ferry lab up`. */
  by: z.enum(['fault', 'lab up']),
});
export type FaultEvent = z.infer<typeof FaultEventSchema>;

/** Something of the lab that is down right now. */
export interface DownItem {
  fault: LabFault;
  what: string;
  /** When the lab inflicted it (from the journal); null when it went down on its own. */
  since: string | null;
  detail: string;
}

// ---- naming -------------------------------------------------------------------------------

export function describeFault(f: LabFault): string {
  switch (f.kind) {
    case 'daemon':
      return `${f.daemon} of ${f.host}`;
    case 'link':
      return f.peer === null ? `link of ${f.host}` : `link ${f.host} <-> ${f.peer}`;
    case 'service':
      return f.service;
  }
}

/** One key per fault, the same whichever way round a partition is named. */
export function faultKey(f: LabFault): string {
  switch (f.kind) {
    case 'daemon':
      return `daemon:${f.host}:${f.daemon}`;
    case 'link':
      return f.peer === null ? `link:${f.host}` : `link:${[f.host, f.peer].sort().join(':')}`;
    case 'service':
      return `service:${f.service}`;
  }
}

// ---- the journal --------------------------------------------------------------------------

export function faultJournalFile(): string {
  return path.join(labDir(), 'faults.jsonl');
}

/** Every fault event since the lab last went down, oldest first. */
export function faultJournal(): FaultEvent[] {
  let text: string;
  try {
    text = fs.readFileSync(faultJournalFile(), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .flatMap((l) => {
      const parsed = FaultEventSchema.safeParse(JSON.parse(l));
      return parsed.success ? [parsed.data] : [];
    });
}

function record(event: FaultEvent): FaultEvent {
  fs.mkdirSync(labDir(), { recursive: true });
  fs.appendFileSync(faultJournalFile(), `${JSON.stringify(event)}\n`);
  return event;
}

/** Called by `lab down`: the journal of this lab's life is kept as faults.previous.jsonl. */
export function closeFaultJournal(): void {
  if (fs.existsSync(faultJournalFile())) fs.renameSync(faultJournalFile(), path.join(labDir(), 'faults.previous.jsonl'));
}

/** When the lab inflicted this fault, if it did and has not healed it since. */
function openSince(f: LabFault, journal: FaultEvent[]): string | null {
  const key = faultKey(f);
  let since: string | null = null;
  for (const e of journal) {
    if (faultKey(e.fault) !== key) continue;
    if (e.action === 'heal') since = null;
    else if (e.changed) since = e.at;
  }
  return since;
}

// ---- inflict and heal ---------------------------------------------------------------------

function labHost(state: LabState, name: string): LabHost {
  const host = state.hosts.find((h) => h.name === name);
  if (!host) throw new Error(`no lab host named '${name}' (lab hosts: ${state.hosts.map((h) => h.name).join(', ')})`);
  return host;
}

function checkFault(f: LabFault, state: LabState): LabFault {
  const parsed = LabFaultSchema.parse(f);
  if (parsed.kind === 'daemon') labHost(state, parsed.host);
  if (parsed.kind === 'link') {
    labHost(state, parsed.host);
    if (parsed.peer !== null) {
      labHost(state, parsed.peer);
      if (parsed.peer === parsed.host) throw new Error(`cannot cut ${parsed.host} from itself`);
    }
  }
  return parsed;
}

function event(action: FaultEvent['action'], fault: LabFault, changed: boolean, detail: string, by: FaultEvent['by'] = 'fault'): FaultEvent {
  return { at: new Date().toISOString(), action, fault, what: describeFault(fault), changed, detail, by };
}

/** Inflicts the fault (idempotent: a fault already in place is reported with changed: false). */
export async function inflictFault(fault: LabFault): Promise<FaultEvent> {
  const state = requireLabState();
  const f = checkFault(fault, state);
  switch (f.kind) {
    case 'daemon': {
      const pid = await killHostDaemon(f.host, f.daemon);
      return record(event('inflict', f, pid !== undefined, pid !== undefined ? `SIGKILL pid ${pid}` : 'was not running'));
    }
    case 'link': {
      const host = labHost(state, f.host);
      if (f.peer === null) {
        const changed = await cutHostLink(host.name);
        return record(event('inflict', f, changed, changed ? `${host.name}'s bridge port set down (no carrier)` : 'was cut already'));
      }
      const peer = labHost(state, f.peer);
      const changed = await cutBetween(host, peer);
      return record(event('inflict', f, changed, changed ? `blackhole routes ${host.address} <-> ${peer.address}` : 'was cut already'));
    }
    case 'service': {
      const pid = f.service === 'placement' ? await killPlacement() : await killTemporal();
      return record(event('inflict', f, pid !== undefined, pid !== undefined ? `SIGKILL pid ${pid}` : 'was not running'));
    }
  }
}

/** Heals the fault, and only it (idempotent: what runs already is reported with changed: false). */
export async function healFault(fault: LabFault, by: FaultEvent['by'] = 'fault'): Promise<FaultEvent> {
  const state = requireLabState();
  const f = checkFault(fault, state);
  switch (f.kind) {
    case 'daemon': {
      const r = await startHostDaemons(f.host, [f.daemon]);
      const pid = hostDaemonPidOf(f.host, f.daemon);
      const where = r.namespaces === 'joined' ? `in the namespaces of pid ${r.joinedPid}` : 'in fresh namespaces';
      return record(event('heal', f, r.started.length > 0, r.started.length > 0 ? `started (pid ${pid}) ${where}` : `was running (pid ${pid})`, by));
    }
    case 'link': {
      const host = labHost(state, f.host);
      if (f.peer === null) {
        const wasUp = (await hostLinkUp(host.name)) === true;
        await ensureHostNetwork(host.name, host.address);
        await waitLinkCarries(host.name);
        return record(event('heal', f, !wasUp, wasUp ? 'was up' : `${host.name}'s bridge port set up`, by));
      }
      const peer = labHost(state, f.peer);
      const changed = await restoreBetween(host, peer);
      return record(event('heal', f, changed, changed ? `blackhole routes ${host.address} <-> ${peer.address} removed` : 'was not cut', by));
    }
    case 'service': {
      const info = f.service === 'placement' ? await startPlacement() : await startTemporal();
      const at = 'url' in info ? info.url : info.address;
      return record(event('heal', f, !info.reused, info.reused ? `was running (pid ${info.pid})` : `started (pid ${info.pid}) at ${at} on ${info.dbFile}`, by));
    }
  }
}

// The fault matrix, one typed function per fault and heal.

/** SIGKILLs one daemon of one host. */
export const killDaemon = (host: string, daemon: HostDaemon) => inflictFault({ kind: 'daemon', host, daemon });
/** Starts that daemon alone again; the host's guests and its other daemon are left as they are. */
export const restartDaemon = (host: string, daemon: HostDaemon) => healFault({ kind: 'daemon', host, daemon });
/** Cuts the host's whole link, or (peer) only the path between the two hosts. */
export const cutLink = (host: string, peer: string | null = null) => inflictFault({ kind: 'link', host, peer });
/** Restores what cutLink cut with the same arguments. */
export const restoreLink = (host: string, peer: string | null = null) => healFault({ kind: 'link', host, peer });
/** SIGKILLs Placement or the Temporal dev server. */
export const stopService = (service: LabService) => inflictFault({ kind: 'service', service });
/** Starts it again on its SQLite file. */
export const startService = (service: LabService) => healFault({ kind: 'service', service });

// ---- what is down -------------------------------------------------------------------------

/** Everything of the lab that is down right now, as observed (with the time the lab inflicted it, if it did). */
export async function observeFaults(state: LabState | undefined = readLabState()): Promise<DownItem[]> {
  if (!state) return [];
  const journal = faultJournal();
  const down: DownItem[] = [];
  const add = (fault: LabFault, detail: string) => down.push({ fault, what: describeFault(fault), since: openSince(fault, journal), detail });

  const [t, p] = await Promise.all([temporalStatus(), placementStatus()]);
  if (!p.running) add({ kind: 'service', service: 'placement' }, 'not running');
  else if (!p.answering) add({ kind: 'service', service: 'placement' }, `runs (pid ${p.pid}) but does not answer on ${p.url}`);
  if (!t.running) add({ kind: 'service', service: 'temporal' }, 'not running');
  else if (!t.answering) add({ kind: 'service', service: 'temporal' }, `runs (pid ${t.pid}) but does not answer on ${t.address}`);

  const byAddress = new Map(state.hosts.map((h) => [h.address, h.name]));
  const partitions = new Set<string>();
  for (const h of state.hosts) {
    for (const daemon of HOST_DAEMONS) {
      const pid = hostDaemonPidOf(h.name, daemon);
      const sock = daemon === 'libvirtd' ? hostSocketPath(h.name) : hostVirtlogdSocketPath(h.name);
      if (pid === undefined) add({ kind: 'daemon', host: h.name, daemon }, 'not running');
      else if (!(await socketAccepts(sock))) add({ kind: 'daemon', host: h.name, daemon }, `runs (pid ${pid}) but its socket refuses`);
    }
    const link = await hostLinkUp(h.name);
    if (link !== true) add({ kind: 'link', host: h.name, peer: null }, link === false ? 'cut (bridge port down)' : 'missing (no veth in the LAN namespace)');
    for (const address of await partitionedAddresses(h.name)) {
      const peer = byAddress.get(address);
      if (peer === undefined) continue;
      const f: LabFault = { kind: 'link', host: [h.name, peer].sort()[0]!, peer: [h.name, peer].sort()[1]! };
      if (partitions.has(faultKey(f))) continue;
      partitions.add(faultKey(f));
      add(f, 'cut between the two (blackhole routes)');
    }
  }
  return down;
}

/**
 * After `lab up`: journals as healed (by 'lab up') each fault the lab had inflicted and that is
 * gone now. Returns every item of `before` that is no longer down.
 */
export async function recordHealedByLabUp(before: DownItem[]): Promise<DownItem[]> {
  if (before.length === 0) return [];
  const after = new Set((await observeFaults()).map((d) => faultKey(d.fault)));
  const healed = before.filter((d) => !after.has(faultKey(d.fault)));
  for (const d of healed) {
    if (d.since !== null) record(event('heal', d.fault, true, 'brought back by lab up', 'lab up'));
  }
  return healed;
}
