/**
 * Fakes for DrainHost workflow tests: the drained host's VMs (each one a child LiveMigration on the
 * scripted activities), the other hosts' room, and per-VM control of how a migration goes: held in
 * pre-copy until the test lets it go, failing on given destinations, or ending on the destination.
 */
import { randomUUID } from 'node:crypto';
import type { DrainDestination, DrainVm } from '../../../model/drain';
import { endedOnDestination, endedOnSource, fakeActivities, hardFailure, postcopy, precopy, type FakeActivities } from './fake-activities';

export const DRAINED = 'host-c';
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function drainVm(name: string, memoryMiB: number, extra: Partial<DrainVm> = {}): DrainVm {
  return {
    name, uuid: randomUUID(), memoryMiB, vcpus: 1, resources: { MEMORY_MB: memoryMiB, VCPU: 1 }, dirtyBps: null, postcopyBlockers: [], unmovable: null, ...extra,
  };
}

export function room(host: string, memoryMb: number): DrainDestination {
  return { host, free: { MEMORY_MB: memoryMb, VCPU: 64 }, maintenance: false, cpuIncompatible: [], maxIncoming: null };
}

export interface DrainScript {
  vms: DrainVm[];
  destinations: DrainDestination[];
  /** VM name -> destinations on which its migration fails at the start (rolled back). */
  failsOn?: Record<string, string[]>;
  /** How long each watch round takes (ms): moves overlap in time, as real ones do. */
  moveMs?: number;
  /** What visibility shows in flight elsewhere (shared admission); absent: nothing. */
  inFlight?: FakeActivities['activities']['migrationsInFlight'];
}

export interface DrainFake extends FakeActivities {
  /** Hold a VM's migration in pre-copy (or post-copy) until released. */
  hold(name: string, mode?: 'precopy' | 'postcopy'): void;
  release(name: string): void;
  /** Resolves once the VM's migration is being watched (it is in flight). */
  inFlight(name: string): Promise<void>;
  uuidOf(name: string): string;
}

export function drainFakes(script: DrainScript): DrainFake {
  const byUuid = new Map(script.vms.map((v) => [v.uuid, v]));
  const held = new Map<string, 'precopy' | 'postcopy'>();
  const aborted = new Set<string>();
  const watched = new Map<string, () => void>();
  const watchedP = new Map<string, Promise<void>>();
  for (const v of script.vms) watchedP.set(v.name, new Promise<void>((r) => watched.set(v.name, r)));
  const fake = fakeActivities({
    source: DRAINED,
    samples: [],
    overrides: {
      gatherDrainFacts: async (input) => ({ host: input.host, maxOutgoing: null, vms: script.vms, destinations: script.destinations, unreachable: [] }),
      checkSource: async (input) => {
        const v = byUuid.get(input.vm)!;
        return { vm: { name: v.name, uuid: v.uuid, memoryMiB: v.memoryMiB, vcpus: v.vcpus }, source: DRAINED, state: 'running', postcopyBlockers: [], checks: [] };
      },
      startMigration: async (input) => {
        if (script.failsOn?.[input.vm.name]?.includes(input.destination)) throw hardFailure(`libvirt refused the migration to ${input.destination}`);
        return { outcome: 'started' };
      },
      applyAction: async (input) => {
        if (input.action.kind === 'abort') aborted.add(input.vm.name);
        return `${input.action.kind} applied`;
      },
      watchMigration: async (input) => {
        watched.get(input.vm.name)?.();
        await sleep(script.moveMs ?? 50);
        if (aborted.has(input.vm.name)) return endedOnSource();
        const mode = held.get(input.vm.name);
        if (mode === 'precopy') return precopy(1, 100);
        if (mode === 'postcopy') return postcopy(2, 50);
        return endedOnDestination();
      },
      ...(script.inFlight ? { migrationsInFlight: script.inFlight } : {}),
    },
  });
  return {
    ...fake,
    hold: (name, mode = 'precopy') => { held.set(name, mode); },
    release: (name) => { held.delete(name); },
    inFlight: (name) => watchedP.get(name)!,
    uuidOf: (name) => script.vms.find((v) => v.name === name)!.uuid,
  };
}
