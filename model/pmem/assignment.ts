/**
 * PURE: which of the destination's persistent-memory namespaces each vPMEM device of a migrating
 * guest gets (Nova's vPMEM live migration: Placement claims a COUNT per resource class; the
 * destination then assigns CONCRETE namespaces from that count, and the source builds the
 * destination XML with them).
 *
 * Placement is the arbiter of how many: a migration whose claim succeeded holds its count, so the
 * free namespaces always suffice for the claims that hold. Which ones is decided here from facts:
 * - a namespace is busy when a domain defined on the destination (other than this VM's own) uses
 *   its path, or when an assignment record of another VM says so while that VM still holds a
 *   namespace class on the destination in Placement (a record whose VM lost its claim, by a
 *   rollback or a later move elsewhere, is stale: it releases the namespace by itself);
 * - the VM's own domain on the destination (the incoming guest, once the migration started) says
 *   which namespaces it has: nothing else is considered then; before it exists, the migration's
 *   own records come first (idempotent by migration id: prepare, start and a recovery build the
 *   same XML), then the free namespaces in name order (deterministic);
 * - records of the same VM under another migration id are stale: one VM has one migration at a time.
 * The record is what makes two migrations that prepared at the same moment never share a
 * namespace: it is written with an exclusive create before the XML is used, and the loser of that
 * race decides again from fresh facts (activities/pmem/).
 */
import { pmemResourceClass, type PmemNamespace } from './namespace';

/** A vPMEM device of the guest, from its source XML: backing path and target size. */
export interface PmemDevice {
  path: string;
  sizeMiB: number;
}

/** A domain defined on the destination (active or not) and the vPMEM paths it uses. */
export interface DomainPmemUse {
  uuid: string;
  name: string;
  paths: string[];
}

/** Which namespace went to which migration: one record per namespace on a host. */
export interface AssignmentRecord {
  namespace: string;
  migrationId: string;
  vmUuid: string;
  /** The source device (backing path on the source) it stands in for. */
  device: string;
}

export interface AssignmentFacts {
  host: string;
  /** null: a run begun before assignments were recorded (only its own domain can tell). */
  migrationId: string | null;
  vm: { name: string; uuid: string };
  devices: PmemDevice[];
  namespaces: PmemNamespace[];
  /** What the VM's allocation holds on the destination: resource class -> count. */
  claimed: Record<string, number>;
  domains: DomainPmemUse[];
  records: AssignmentRecord[];
  /** VMs that hold a namespace class on the destination in Placement now. */
  claimants: string[];
}

export interface Assigned {
  device: string;
  namespace: string;
  path: string;
  resourceClass: string;
}

export type Assignment =
  | {
      ok: true;
      assigned: Assigned[];
      /** Source device path -> destination namespace path (the XML rewrite's input). */
      pmemPaths: Record<string, string>;
      /** Records this migration still has to write (an exclusive create each). */
      toRecord: AssignmentRecord[];
      /** Records that no longer hold anything (their VM lost its claim, or an earlier migration of this VM). */
      stale: AssignmentRecord[];
    }
  | { ok: false; reason: string };

function recordIsLive(r: AssignmentRecord, f: AssignmentFacts): boolean {
  if (r.migrationId === f.migrationId) return true;
  if (r.vmUuid === f.vm.uuid) return false;
  return f.claimants.includes(r.vmUuid);
}

export function assignNamespaces(f: AssignmentFacts): Assignment {
  const byName = new Map(f.namespaces.map((ns) => [ns.name, ns]));
  const classOf = (ns: PmemNamespace) => pmemResourceClass(ns.sizeMiB);
  const incoming = fromOwnDomain(f, classOf);
  if (incoming) return incoming;
  if (f.migrationId === null) {
    return {
      ok: false,
      reason: `${f.vm.name} has vPMEM devices and this migration carries no migration id to record their namespaces on ${f.host} by ` +
        '(a run begun before ferry assigned namespaces): abort it and migrate again',
    };
  }
  const live = f.records.filter((r) => recordIsLive(r, f) && byName.has(r.namespace));
  const stale = f.records.filter((r) => !live.includes(r));

  const busy = new Map<string, string>();
  for (const d of f.domains) {
    if (d.uuid === f.vm.uuid) continue;
    for (const ns of f.namespaces) if (d.paths.includes(ns.path)) busy.set(ns.name, `used by domain '${d.name}'`);
  }
  for (const r of live) {
    if (r.migrationId !== f.migrationId && !busy.has(r.namespace)) busy.set(r.namespace, `assigned to migration ${r.migrationId} (VM ${r.vmUuid})`);
  }

  // Each class: the devices needing it, and what Placement claimed of it.
  const need = new Map<string, PmemDevice[]>();
  for (const d of f.devices) {
    const rc = pmemResourceClass(d.sizeMiB);
    need.set(rc, [...(need.get(rc) ?? []), d]);
  }
  for (const [rc, devices] of [...need].sort(([a], [b]) => a.localeCompare(b))) {
    const claimed = f.claimed[rc] ?? 0;
    if (claimed < devices.length) {
      return {
        ok: false,
        reason: `${f.vm.name} has ${devices.length} vPMEM device(s) of class ${rc} but its allocation on ${f.host} claims ${claimed}: ` +
          'every namespace must be claimed in Placement before one is assigned (allocate the VM with its vPMEM resources)',
      };
    }
    if (!f.namespaces.some((ns) => classOf(ns) === rc)) {
      const has = f.namespaces.map((ns) => `${ns.name} (${classOf(ns)})`).join(', ') || 'none';
      return { ok: false, reason: `${f.host} has no persistent-memory namespace of class ${rc} (its namespaces: ${has})` };
    }
  }

  const assigned: Assigned[] = [];
  const toRecord: AssignmentRecord[] = [];
  const taken = new Set<string>();
  const own = live.filter((r) => r.migrationId === f.migrationId);
  for (const device of f.devices) {
    const rc = pmemResourceClass(device.sizeMiB);
    const mine = own.find((r) => r.device === device.path && !taken.has(r.namespace) && !busy.has(r.namespace) && classOf(byName.get(r.namespace)!) === rc);
    const free = f.namespaces
      .filter((ns) => classOf(ns) === rc && !busy.has(ns.name) && !taken.has(ns.name) && !own.some((r) => r.namespace === ns.name && r.device !== device.path))
      .sort((a, b) => a.name.localeCompare(b.name));
    const ns = mine ? byName.get(mine.namespace)! : free[0];
    if (!ns) {
      const why = f.namespaces.filter((n) => classOf(n) === rc).map((n) => `${n.name} ${busy.get(n.name) ?? 'assigned to another device of this guest'}`).join('; ');
      return {
        ok: false,
        reason: `no free persistent-memory namespace of class ${rc} on ${f.host} for ${f.vm.name}'s device ${device.path} (${why}): ` +
          'another migration or guest took it; Placement should have refused the claim, so a guest uses a namespace it never claimed',
      };
    }
    taken.add(ns.name);
    assigned.push({ device: device.path, namespace: ns.name, path: ns.path, resourceClass: rc });
    if (!mine) toRecord.push({ namespace: ns.name, migrationId: f.migrationId, vmUuid: f.vm.uuid, device: device.path });
  }
  return { ok: true, assigned, pmemPaths: Object.fromEntries(assigned.map((a) => [a.device, a.path])), toRecord, stale };
}

/**
 * The VM's own domain on the destination, when it has one with a namespace of the right class for
 * every device (in document order: the destination XML keeps the devices' order): that is the
 * assignment, already in use by the incoming guest.
 */
function fromOwnDomain(f: AssignmentFacts, classOf: (ns: PmemNamespace) => string): Assignment | undefined {
  const own = f.domains.find((d) => d.uuid === f.vm.uuid);
  if (!own || own.paths.length !== f.devices.length) return undefined;
  const assigned: Assigned[] = [];
  for (const [i, device] of f.devices.entries()) {
    const ns = f.namespaces.find((n) => n.path === own.paths[i]);
    const rc = pmemResourceClass(device.sizeMiB);
    if (!ns || classOf(ns) !== rc) return undefined;
    assigned.push({ device: device.path, namespace: ns.name, path: ns.path, resourceClass: rc });
  }
  return { ok: true, assigned, pmemPaths: Object.fromEntries(assigned.map((a) => [a.device, a.path])), toRecord: [], stale: [] };
}
