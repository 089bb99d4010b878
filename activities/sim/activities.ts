/**
 * The activity contract (model/activity-contract.ts) played by a simulated fleet (fleet.ts): the
 * real workflows run on it unchanged, with hosts, QEMU and Placement in the worker's memory. Each
 * activity does what the real one does, in the fleet's terms, and is idempotent by migration id
 * like the real one (a second start finds its migration; a second claim, finish or roll-back finds
 * its work done). Not simulated: the drain's facts (gatherDrainFacts refuses, naming the gap) and
 * the lab guest's stall meter (null, as outside the lab).
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type {
  FerryActivities, FinalStats, MigrationSample, VmFacts, WatchInput,
} from '../../model/activity-contract';
import {
  abortMigration, pauseGuest, resumeGuest, setBandwidthCap, setMaxDowntime, startPostcopy,
} from '../../model/sim/dirty-page-model';
import { isDecisionPoint } from '../../model/observation';
import { withAutoForecast } from '../../model/forecast/auto-forecast';
import { QEMU_OWN_RESIDENT_BYTES } from '../../model/forecast/touched-memory';
import { linkOf, type InFlightCounts } from '../../model/migrations-in-flight';
import { guardedActivities } from '../contract-guard';
import { refuse } from '../refusal';
import type { SimFleet, SimMigration } from './fleet';

const MiB = 1024 * 1024;

export interface SimActivityOptions {
  /** How often a watch looks at its migration while it waits for a decision point (real ms). */
  watchPollMs?: number;
}

function heartbeat(details?: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // called outside an activity (a unit test): nothing to heartbeat
  }
}

function factsOf(vm: { name: string; uuid: string; memoryMiB: number; vcpus: number }): VmFacts {
  return { name: vm.name, uuid: vm.uuid, memoryMiB: vm.memoryMiB, vcpus: vm.vcpus };
}

function finalStats(fleet: SimFleet, m: SimMigration): FinalStats {
  const s = fleet.stats(m);
  return { downtimeMs: s.downtimeMs, totalMs: s.elapsedMs, bytes: s.dataProcessed, iterations: s.iteration, postcopyRequests: s.postcopyRequests };
}

function describe(v: ReturnType<SimFleet['view']>): string {
  return v.domain === 'none' ? 'absent' : `${v.domain.state} (${v.domain.reason})`;
}

export function createSimActivities(fleet: SimFleet, opts: SimActivityOptions = {}): FerryActivities {
  const pollMs = opts.watchPollMs ?? 250;

  function sample(vmUuid: string, source: string, destination: string): MigrationSample {
    const m = fleet.current(vmUuid, source, destination);
    const views = { source: fleet.view(vmUuid, source), destination: fleet.view(vmUuid, destination) };
    if (!m) {
      return {
        job: 'ended', mode: 'precopy', elapsedMs: 0, iteration: null, dataTotal: 0, dataRemaining: 0, dataProcessed: 0,
        memoryBps: null, dirtyBps: null, expectedDowntimeMs: null, postcopyFailed: false, ...views,
      };
    }
    const s = fleet.stats(m);
    return {
      job: s.job === 'running' ? 'running' : 'ended', mode: s.mode, elapsedMs: s.elapsedMs, iteration: s.iteration,
      dataTotal: s.dataTotal, dataRemaining: s.dataRemaining, dataProcessed: s.dataProcessed, memoryBps: s.memoryBps,
      dirtyBps: s.dirtyBps, expectedDowntimeMs: s.expectedDowntimeMs, postcopyFailed: false, ...views,
    };
  }

  function dropAllocation(consumer: string): boolean {
    return fleet.allocations.delete(consumer);
  }

  /** Moves the migration consumer's allocation back to the VM (Placement's revert). */
  function revert(migrationId: string, vmUuid: string): string {
    const held = fleet.allocations.get(migrationId);
    if (!held) return 'nothing to revert: the migration holds no allocation';
    fleet.allocations.set(vmUuid, held);
    fleet.allocations.delete(migrationId);
    return `reverted: ${vmUuid} holds ${held.memoryMiB} MiB on ${held.host} again`;
  }

  const activities: FerryActivities = {
    // Simulated guests are diskless: nothing to plan, nothing to create (model/sim says what it models).
    checkStorage: async () => ({ disks: [] }),
    createDestinationVolumes: async ({ copies }) => {
      throw new Error(`the simulated fleet has no storage: asked to create ${copies.length} volume(s)`);
    },
    locateVm: async ({ vm }) => {
      const found = fleet.vm(vm);
      return {
        found: found ? [{ host: found.host, name: found.name, uuid: found.uuid, state: found.paused ? 'paused' : 'running', reason: 'Booted' }] : [],
        unreachable: [],
        hosts: fleet.hosts,
      };
    },
    checkSource: async ({ vm, source }) => {
      const found = fleet.vm(vm);
      if (!found) throw refuse(`VM '${vm}' is on none of the ${fleet.hosts.length} simulated hosts`);
      if (source !== undefined && found.host !== source) throw refuse(`VM '${vm}' is not on ${source}: it runs on ${found.host}`);
      return {
        vm: factsOf(found), source: found.host, state: found.paused ? 'paused' : 'running', postcopyBlockers: [],
        checks: [{ check: 'state', ok: true, detail: `${found.paused ? 'paused' : 'running'} on ${found.host} (simulated)` }],
      };
    },
    chooseDestinationHost: async ({ vm, source, requested }) => {
      const free = (h: string) => fleet.spec.hostMemoryMiB - fleet.usedMiB(h);
      if (requested) {
        if (requested.mode === 'check' && free(requested.host) < vm.memoryMiB) {
          throw refuse(`${requested.host} has ${free(requested.host)} MiB free, ${vm.name} needs ${vm.memoryMiB} MiB`);
        }
        return { destination: requested.host, how: requested.mode === 'force' ? 'forced' : 'checked', detail: `${requested.host}: ${free(requested.host)} MiB free` };
      }
      const candidates = fleet.hosts.filter((h) => h !== source && !fleet.maintenance.has(h) && free(h) >= vm.memoryMiB);
      if (candidates.length === 0) throw refuse(`no simulated host has ${vm.memoryMiB} MiB free for ${vm.name}`);
      const best = candidates.reduce((a, b) => (free(b) > free(a) ? b : a));
      return { destination: best, how: 'placement', detail: `simulated Placement chose ${best} (${free(best)} MiB free)` };
    },
    // The simulated guest's own rate (a real QEMU's sampling has an error; the model's does not).
    gatherForecastFacts: async ({ vmUuid, plan }) => {
      const found = fleet.vm(vmUuid);
      if (!found) throw refuse(`VM '${vmUuid}' is on none of the ${fleet.hosts.length} simulated hosts`);
      // A simulated QEMU is resident as a real one: the RAM that holds data plus its own share.
      return withAutoForecast({ dirtyBps: found.dirtyBps, workingSetBytes: found.workingSetBytes, residentBytes: found.touchedBytes + QEMU_OWN_RESIDENT_BYTES, sourceLinkMiBps: fleet.spec.linkMiBps, destinationLinkMiBps: fleet.spec.linkMiBps }, plan);
    },
    checkDestination: async ({ destination }) => {
      if (!fleet.hosts.includes(destination)) throw refuse(`no simulated host '${destination}' (hosts: ${fleet.hosts.slice(0, 5).join(', ')}, ...)`);
      return { checks: [{ check: 'host', ok: true, detail: `${destination} is simulated` }], postcopySupported: true };
    },
    claim: async ({ migrationId, vm, source, destination }) => {
      if (fleet.allocations.has(migrationId)) return { outcome: 'already-claimed', detail: `migration ${migrationId} holds the source's room already` };
      fleet.allocations.set(migrationId, { host: source, memoryMiB: vm.memoryMiB });
      fleet.allocations.set(vm.uuid, { host: destination, memoryMiB: vm.memoryMiB });
      return { outcome: 'claimed', detail: `${vm.memoryMiB} MiB claimed on ${destination}; the source's held by the migration` };
    },
    revertClaim: async ({ migrationId, vmUuid }) => revert(migrationId, vmUuid),
    dropMigrationClaim: async ({ migrationId }) => dropAllocation(migrationId),
    prepareDestination: async (input) => {
      const fingerprint = `sha256:${createHash('sha256').update(`${input.vm.uuid}->${input.destination}`).digest('hex')}`;
      return {
        ...(input.xmlOutOfHistory ? {} : { destXml: `<domain><name>${input.vm.name}</name></domain>` }),
        fingerprint, changes: [],
      };
    },
    startMigration: async (input) => {
      const vm = fleet.vms.get(input.vm.uuid);
      if (!vm) throw refuse(`VM ${input.vm.uuid} is not simulated`);
      const known = fleet.migrations.get(input.migrationId);
      if (!known && vm.host !== input.source) throw refuse(`VM '${vm.name}' runs on ${vm.host}, not on ${input.source}`);
      const { migration, fresh } = fleet.start({
        migrationId: input.migrationId, vmUuid: vm.uuid, source: input.source, destination: input.destination,
        capBps: input.bandwidthMiBps === null ? null : input.bandwidthMiBps * MiB, maxDowntimeMs: input.initialMaxDowntimeMs,
        postcopyAllowed: input.postcopy,
      });
      if (fresh) return { outcome: 'started' };
      return { outcome: migration.settled ? 'already-done' : 'already-running' };
    },
    watchMigration: async (input: WatchInput) => {
      const began = Date.now();
      for (;;) {
        const s = sample(input.vm.uuid, input.source, input.destination);
        if (isDecisionPoint(s, input, Date.now() - began)) return s;
        heartbeat();
        await sleep(Math.min(pollMs, Math.max(1, input.maxWaitMs - (Date.now() - began))));
      }
    },
    applyAction: async ({ vm, source, destination, action }) => {
      const m = fleet.current(vm.uuid, source, destination);
      if (!m) throw refuse(`no simulated migration of ${vm.name} from ${source} to ${destination}`);
      if (m.settled) return `${action.kind}: the job has already ended (${m.state.mode})`;
      switch (action.kind) {
        case 'set-max-downtime':
          fleet.update(m, setMaxDowntime(m.state, action.ms));
          return `max downtime ${action.ms} ms`;
        case 'set-bandwidth':
          fleet.update(m, setBandwidthCap(m.state, action.mibps * MiB));
          return `bandwidth ${action.mibps} MiB/s`;
        case 'start-postcopy': {
          if (!m.postcopyAllowed) throw refuse('post-copy was not enabled when the migration started');
          const next = startPostcopy(m.state);
          if (!next) throw ApplicationFailure.create({ type: 'LibvirtError', message: 'post-copy cannot start before the migration has begun' });
          fleet.update(m, next);
          return 'post-copy started';
        }
        case 'pause':
          fleet.update(m, pauseGuest(m.state));
          return 'guest paused';
        case 'abort':
        case 'resume-and-abort': {
          const next = abortMigration(action.kind === 'resume-and-abort' ? resumeGuest(m.state) : m.state);
          if (!next) throw refuse(`abort refused: the guest may already run on ${destination} (${m.state.mode})`);
          fleet.update(m, next);
          fleet.look(m);
          return action.kind === 'abort' ? 'aborted' : 'resumed and aborted';
        }
      }
    },
    // Post-copy never breaks in the simulation: a call finds it running or done.
    recoverPostcopy: async ({ vm, source, destination }) => {
      const m = fleet.current(vm.uuid, source, destination);
      const hosts = { source: describe(fleet.view(vm.uuid, source)), destination: describe(fleet.view(vm.uuid, destination)) };
      return m?.settled
        ? { outcome: 'finished-on-its-own', why: 'the simulated post-copy completed', attempts: 0, errors: [], hosts }
        : { outcome: 'resumed', why: 'the simulated post-copy runs', attempts: 0, errors: [], hosts };
    },
    finishMigration: async (input) => {
      const result = await activities.finishOnHosts(input);
      dropAllocation(input.migrationId);
      return result;
    },
    finishOnHosts: async ({ migrationId, vm, source, destination }) => {
      const m = fleet.migrations.get(migrationId);
      if (!m || fleet.look(m).state.mode !== 'completed') {
        throw ApplicationFailure.create({ type: 'NotSwitchedOver', message: `${vm.name}: the simulated migration ${migrationId} has not completed` });
      }
      return {
        stats: finalStats(fleet, m),
        hosts: { source: describe(fleet.view(vm.uuid, source)), destination: `${describe(fleet.view(vm.uuid, destination))} on ${destination}` },
      };
    },
    rollbackMigration: async ({ migrationId, vm, source, destination, resumeIfPaused }) => {
      const m = fleet.migrations.get(migrationId);
      const steps: string[] = [];
      if (m) {
        fleet.look(m);
        if (m.state.mode === 'postcopy' || m.state.mode === 'finishing' || m.state.mode === 'completed') {
          return {
            outcome: 'refused', situation: m.state.mode === 'completed' ? 'done' : 'postcopy-running', next: 'finish',
            explanation: `the guest runs on ${m.destination} (simulated ${m.state.mode}): nothing was undone`,
            hosts: { source: describe(fleet.view(vm.uuid, source)), destination: destination ? describe(fleet.view(vm.uuid, destination)) : 'n/a' },
            steps,
          };
        }
        if (m.state.mode !== 'cancelled') {
          fleet.update(m, abortMigration(resumeIfPaused ? resumeGuest(m.state) : m.state)!);
          fleet.look(m);
          steps.push('aborted the migration job');
        }
      }
      steps.push(`allocations: ${revert(migrationId, vm.uuid)}`);
      return {
        outcome: 'rolled-back', situation: 'not-started-or-rolled-back', next: 'roll-back',
        hosts: { source: describe(fleet.view(vm.uuid, source)), destination: destination ? describe(fleet.view(vm.uuid, destination)) : 'n/a' },
        steps,
      };
    },
    guestStallMark: async () => null,
    guestStallSince: async () => null,
    gatherDrainFacts: async ({ host }) => {
      throw refuse(`draining ${host}: the simulated fleet does not gather a drain's facts yet (activities/sim/activities.ts)`, undefined, 'NotSimulated');
    },
    setHostMaintenance: async ({ host, on }) => {
      const changed = on !== fleet.maintenance.has(host);
      if (on) fleet.maintenance.add(host);
      else fleet.maintenance.delete(host);
      return { host, inMaintenance: on, changed };
    },
    reserveRoom: async ({ destination }) => ({ outcome: 'reserved' as const, detail: `held on ${destination} (simulated)` }),
    releaseRoom: async () => true,
    migrationsInFlight: async ({ excludeWorkflowIds }) => {
      const excluded = new Set(excludeWorkflowIds);
      const counts: InFlightCounts = { total: 0, outOf: {}, into: {}, onLink: {}, hostLimits: {} };
      for (const m of fleet.inFlight()) {
        if (excluded.has(`migrate-${m.vmUuid}`)) continue;
        counts.total++;
        counts.outOf[m.source] = (counts.outOf[m.source] ?? 0) + 1;
        counts.into[m.destination] = (counts.into[m.destination] ?? 0) + 1;
        const link = linkOf(m.source, m.destination);
        counts.onLink[link] = (counts.onLink[link] ?? 0) + 1;
      }
      return counts;
    },
  };
  return guardedActivities(activities);
}
