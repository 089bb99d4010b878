/**
 * A simulated fleet in the worker's memory: hosts, their VMs, the migrations between them (each
 * advanced by the pure dirty-page model, model/sim/dirty-page-model.ts) and Placement's
 * allocations. It plays libvirt and Placement for the sim activities (activities/sim/activities.ts).
 *
 * Time: each migration is advanced lazily, when something looks at it, by the real time elapsed
 * since it was last looked at, times the fleet's speed (SimFleetSpec.speed). Nothing ticks in the
 * background, so 1,000 idle migrations cost nothing between looks.
 */
import {
  advance, jobStats, startSimMigration, type SimJobStats, type SimMigrationState,
} from '../../model/sim/dirty-page-model';
import { fleetOf, type SimFleetSpec, type SimVmSpec } from '../../model/sim/fleet-spec';
import type { HostDomainView } from '../../model/activity-contract';

const MiB = 1024 * 1024;

export interface SimMigration {
  migrationId: string;
  vmUuid: string;
  source: string;
  destination: string;
  state: SimMigrationState;
  /** Real ms (the fleet's clock) when `state` was last advanced. */
  advancedAtMs: number;
  postcopyAllowed: boolean;
  /** Set once the completion has been applied to the fleet (the VM moved to the destination). */
  settled: boolean;
}

/** One consumer's allocation in the simulated Placement (memory only: enough for the sim). */
interface Allocation {
  host: string;
  memoryMiB: number;
}

export class SimFleet {
  readonly hosts: string[];
  readonly vms = new Map<string, SimVmSpec & { paused: boolean }>();
  private readonly byName = new Map<string, string>();
  readonly migrations = new Map<string, SimMigration>();
  /** The VM's current migration (by VM UUID), until a new one replaces it. */
  private readonly currentOf = new Map<string, string>();
  readonly allocations = new Map<string, Allocation>();
  readonly maintenance = new Set<string>();

  constructor(readonly spec: SimFleetSpec, private readonly now: () => number = () => Date.now()) {
    const fleet = fleetOf(spec);
    this.hosts = fleet.hosts;
    for (const vm of fleet.vms) {
      this.vms.set(vm.uuid, { ...vm, paused: false });
      this.byName.set(vm.name, vm.uuid);
      this.allocations.set(vm.uuid, { host: vm.host, memoryMiB: vm.memoryMiB });
    }
  }

  /** A VM by name or UUID. */
  vm(ref: string): (SimVmSpec & { paused: boolean }) | undefined {
    return this.vms.get(ref.toLowerCase()) ?? this.vms.get(this.byName.get(ref) ?? '');
  }

  usedMiB(host: string): number {
    let used = 0;
    for (const a of this.allocations.values()) if (a.host === host) used += a.memoryMiB;
    return used;
  }

  // ---- migrations ---------------------------------------------------------------------------------

  /** Starts a migration once per id (a second call finds it). */
  start(args: {
    migrationId: string; vmUuid: string; source: string; destination: string; capBps: number | null;
    maxDowntimeMs: number | null; postcopyAllowed: boolean;
  }): { migration: SimMigration; fresh: boolean } {
    const known = this.migrations.get(args.migrationId);
    if (known) return { migration: this.look(known), fresh: false };
    const vm = this.vms.get(args.vmUuid)!;
    const state = startSimMigration(
      { memoryBytes: vm.memoryMiB * MiB, touchedBytes: vm.touchedBytes, dirtyBps: vm.dirtyBps, workingSetBytes: vm.workingSetBytes },
      { linkBps: this.spec.linkMiBps * MiB },
      { capBps: args.capBps, maxDowntimeMs: args.maxDowntimeMs ?? 300 },
    );
    const migration: SimMigration = {
      migrationId: args.migrationId, vmUuid: args.vmUuid, source: args.source, destination: args.destination,
      state: vm.paused ? { ...state, guestPaused: true, pausedAtMs: 0 } : state,
      advancedAtMs: this.now(), postcopyAllowed: args.postcopyAllowed, settled: false,
    };
    this.migrations.set(args.migrationId, migration);
    this.currentOf.set(args.vmUuid, args.migrationId);
    return { migration, fresh: true };
  }

  /** The VM's current migration between these hosts, advanced to now. */
  current(vmUuid: string, source: string, destination: string): SimMigration | undefined {
    const id = this.currentOf.get(vmUuid);
    const m = id ? this.migrations.get(id) : undefined;
    if (!m || m.source !== source || m.destination !== destination) return undefined;
    return this.look(m);
  }

  /** Advances a migration to now; a completed one moves its VM to the destination (once). */
  look(m: SimMigration): SimMigration {
    const at = this.now();
    if (at > m.advancedAtMs) {
      m.state = advance(m.state, (at - m.advancedAtMs) * this.spec.speed);
      m.advancedAtMs = at;
    }
    if (!m.settled && m.state.mode === 'completed') {
      const vm = this.vms.get(m.vmUuid)!;
      vm.host = m.destination;
      vm.paused = false;
      m.settled = true;
    } else if (!m.settled && m.state.mode === 'cancelled') {
      m.settled = true;
    }
    return m;
  }

  /** Replaces the state of a migration (an action applied to it). */
  update(m: SimMigration, state: SimMigrationState): void {
    m.state = state;
  }

  stats(m: SimMigration): SimJobStats {
    return jobStats(m.state);
  }

  // ---- what a host shows --------------------------------------------------------------------------

  /** What `host` shows of the VM now, as the real host view reads libvirt (states and reasons). */
  view(vmUuid: string, host: string): HostDomainView {
    const vm = this.vms.get(vmUuid);
    const none: HostDomainView = { reachable: true, domain: 'none', job: { type: 'none' } };
    if (!vm) return none;
    const id = this.currentOf.get(vmUuid);
    const m = id ? this.migrations.get(id) : undefined;
    const running = (reason: string): HostDomainView['domain'] => ({ state: 'running', reason, persistent: true });
    const paused = (reason: string, persistent = true): HostDomainView['domain'] => ({ state: 'paused', reason, persistent });
    if (m && !m.settled && (host === m.source || host === m.destination)) {
      const s = this.stats(m);
      const switching = m.state.mode === 'finishing' && m.state.endedBy === 'switch-over';
      if (host === m.source) {
        const domain = s.mode === 'postcopy' ? paused('Postcopy') : switching ? paused('Migration') : vm.paused || m.state.guestPaused ? paused('User') : running('Booted');
        return { reachable: true, domain, job: { type: 'unbounded', operation: 'outgoing migration' } };
      }
      const domain = s.mode === 'postcopy' ? running('Postcopy') : paused('Migration', false);
      return { reachable: true, domain, job: { type: 'none' } };
    }
    if (vm.host !== host) {
      // The source of a finished migration keeps libvirt's record of the job until it is read.
      if (m && m.settled && host === m.source && m.state.mode === 'completed') {
        return { ...none, finishedJob: this.finishedJob(m) };
      }
      return none;
    }
    const reason = m && m.settled && m.state.mode === 'completed' && host === m.destination ? 'Migrated' : 'Booted';
    const view: HostDomainView = { reachable: true, domain: vm.paused ? paused('User') : running(reason), job: { type: 'none' } };
    return m && m.settled && m.state.mode === 'cancelled' && host === m.source ? { ...view, finishedJob: this.finishedJob(m) } : view;
  }

  finishedJob(m: SimMigration): NonNullable<HostDomainView['finishedJob']> {
    const s = this.stats(m);
    return {
      type: m.state.mode === 'completed' ? 'completed' : 'cancelled',
      operation: 'outgoing migration',
      elapsedMs: s.elapsedMs,
      ...(s.downtimeMs !== null ? { downtimeMs: s.downtimeMs } : {}),
      dataProcessed: s.dataProcessed,
      memoryIteration: s.iteration ?? 0,
      postcopyRequests: s.postcopyRequests,
    };
  }

  /** Migrations whose job still runs (admission's count). */
  inFlight(): SimMigration[] {
    const running: SimMigration[] = [];
    for (const m of this.migrations.values()) {
      if (!m.settled && !this.look(m).settled) running.push(m);
    }
    return running;
  }
}
