/**
 * PURE: the drain's plan. Given the VMs on the host and the room on every other host, where each
 * VM goes, in what order, and which cannot move and why.
 *
 * - Order: quiet and small first (dirty rate ascending, an unknown rate counted as quiet, then
 *   memory ascending, then name): the moves most likely to end fast free the host's room and
 *   prove the path before the hard ones start.
 * - Room is consumed as VMs are assigned, in that order, so two VMs never count on the same room.
 * - Each VM goes to the host with the most free memory left after it (spreading, as
 *   destination-choice.ts does for a single migration); ties go to free vCPUs, then the name.
 * - A host in maintenance takes nothing; a host whose CPU the guest cannot run is no candidate.
 */
import type { CannotMove, CannotMoveKind, DrainDestination, DrainFacts, DrainPlan, DrainVm, PlannedMove, ResourceAmounts } from './schemas';

export type Room = Record<string, ResourceAmounts>;

/** Options of the plan: the link budget decides whether a VM without post-copy can converge. */
export interface PlanOptions {
  /** Bandwidth a move gets (bytes/s); null: unknown, no convergence verdict is made. */
  moveBandwidthBps: number | null;
}

const fmt = (r: ResourceAmounts) => Object.entries(r).filter(([, n]) => n > 0).map(([k, n]) => `${k}:${n}`).join(',') || 'nothing';

/** Room each destination has now, as the facts report it (hosts in maintenance excluded). */
export function roomOf(destinations: readonly DrainDestination[]): Room {
  return Object.fromEntries(destinations.filter((d) => !d.maintenance).map((d) => [d.host, { ...d.free }]));
}

export function fits(free: ResourceAmounts, wanted: ResourceAmounts): boolean {
  return Object.entries(wanted).every(([rc, n]) => n <= 0 || (free[rc] ?? 0) >= n);
}

/** Room minus (or plus, sign -1) what a move holds. */
export function consume(room: Room, host: string, wanted: ResourceAmounts, sign: 1 | -1 = 1): void {
  const free = room[host];
  if (!free) return;
  for (const [rc, n] of Object.entries(wanted)) free[rc] = (free[rc] ?? 0) - sign * n;
}

/** The quiet-and-small-first order. */
export function drainOrder(a: DrainVm, b: DrainVm): number {
  return (a.dirtyBps ?? 0) - (b.dirtyBps ?? 0) || a.memoryMiB - b.memoryMiB || a.name.localeCompare(b.name);
}

/** What a VM needs on a destination: its Placement allocation, else its size from libvirt. */
export function wantedBy(vm: Pick<DrainVm, 'resources' | 'memoryMiB' | 'vcpus'>): ResourceAmounts {
  return Object.keys(vm.resources).length > 0 ? { ...vm.resources } : { MEMORY_MB: vm.memoryMiB, VCPU: vm.vcpus };
}

export type Choice = { destination: string } | { kind: CannotMoveKind; reason: string };

/**
 * Where one VM goes given the room left, or why nowhere. `exclude`: hosts not to take (a retry
 * leaves out the ones that failed). Pure; does not consume the room.
 */
export function chooseFor(
  vm: DrainVm,
  destinations: readonly DrainDestination[],
  room: Room,
  exclude: readonly string[] = [],
): Choice {
  const wanted = wantedBy(vm);
  const open = destinations.filter((d) => !d.maintenance && !exclude.includes(d.host) && room[d.host] !== undefined);
  if (open.length === 0) {
    const inMaintenance = destinations.filter((d) => d.maintenance).map((d) => d.host);
    const why = [
      exclude.length ? `tried already: ${exclude.join(', ')}` : '',
      inMaintenance.length ? `in maintenance: ${inMaintenance.join(', ')}` : '',
    ].filter(Boolean).join('; ');
    return { kind: 'no-destination', reason: `no other host can take it${why ? ` (${why})` : ''}` };
  }
  const roomy = open.filter((d) => fits(room[d.host]!, wanted));
  const compatible = roomy.filter((d) => !d.cpuIncompatible.includes(vm.uuid));
  if (compatible.length === 0) {
    if (roomy.length > 0) {
      return {
        kind: 'cpu-mismatch',
        reason: `the guest's CPU is not compatible with ${roomy.map((d) => d.host).join(', ')}, the hosts with room for ${fmt(wanted)}`,
      };
    }
    const best = [...open].sort((a, b) => (room[b.host]!.MEMORY_MB ?? 0) - (room[a.host]!.MEMORY_MB ?? 0))[0]!;
    return {
      kind: 'no-room',
      reason: `no host has room for ${fmt(wanted)}${exclude.length ? ` besides ${exclude.join(', ')}` : ''}; the most free: ${best.host} ${fmt(room[best.host]!)}`,
    };
  }
  const after = (d: DrainDestination, rc: string) => (room[d.host]![rc] ?? 0) - (wanted[rc] ?? 0);
  const chosen = [...compatible].sort(
    (a, b) => after(b, 'MEMORY_MB') - after(a, 'MEMORY_MB') || after(b, 'VCPU') - after(a, 'VCPU') || a.host.localeCompare(b.host),
  )[0]!;
  return { destination: chosen.host };
}

/** The plan: every VM of the host either has a destination (in start order) or a reason it stays. */
export function planDrain(facts: DrainFacts, opts: PlanOptions): DrainPlan {
  const room = roomOf(facts.destinations);
  const moves: PlannedMove[] = [];
  const cannotMove: CannotMove[] = [];
  for (const vm of [...facts.vms].sort(drainOrder)) {
    const ref = { name: vm.name, uuid: vm.uuid };
    if (vm.unmovable !== null) {
      cannotMove.push({ vm: ref, kind: 'unmovable', reason: vm.unmovable });
      continue;
    }
    const notes: string[] = [];
    if (vm.postcopyBlockers.length > 0) {
      const blockers = vm.postcopyBlockers.join(', ');
      // Without post-copy a guest that dirties memory faster than the link sends it never converges.
      if (vm.dirtyBps !== null && opts.moveBandwidthBps !== null && vm.dirtyBps >= opts.moveBandwidthBps) {
        cannotMove.push({
          vm: ref, kind: 'postcopy-blockers',
          reason: `post-copy is blocked (${blockers}) and the guest dirties ${mibps(vm.dirtyBps)} MiB/s, at least the ${mibps(opts.moveBandwidthBps)} MiB/s a move gets: pre-copy alone would not converge`,
        });
        continue;
      }
      notes.push(`post-copy blocked (${blockers}): pre-copy only`);
    }
    const choice = chooseFor(vm, facts.destinations, room);
    if ('kind' in choice) {
      cannotMove.push({ vm: ref, kind: choice.kind, reason: choice.reason });
      continue;
    }
    const resources = wantedBy(vm);
    consume(room, choice.destination, resources);
    moves.push({ vm: ref, destination: choice.destination, resources, memoryMiB: vm.memoryMiB, dirtyBps: vm.dirtyBps, notes });
  }
  return { host: facts.host, moves, cannotMove, roomLeft: room };
}

const mibps = (bps: number) => Math.round((bps / 1048576) * 10) / 10;
