/** Builders of drain facts for the unit tests: VMs of a host and destinations with room. */
import type { DrainDestination, DrainFacts, DrainVm } from '../../../model/drain';

let n = 0;
export function vm(name: string, memoryMiB: number, extra: Partial<DrainVm> = {}): DrainVm {
  n++;
  const uuid = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
  return {
    name, uuid, memoryMiB, vcpus: 1, resources: { MEMORY_MB: memoryMiB, VCPU: 1 }, dirtyBps: null, postcopyBlockers: [], unmovable: null, ...extra,
  };
}

export function dest(host: string, memoryMb: number, vcpus = 16, extra: Partial<DrainDestination> = {}): DrainDestination {
  return { host, free: { MEMORY_MB: memoryMb, VCPU: vcpus }, maintenance: false, cpuIncompatible: [], maxIncoming: null, ...extra };
}

export function facts(vms: DrainVm[], destinations: DrainDestination[]): DrainFacts {
  return { host: 'host-c', maxOutgoing: null, vms, destinations, unreachable: [] };
}
