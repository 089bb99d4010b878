/**
 * PURE: the simulated fleet a sim worker holds in memory (activities/sim/), described by a small
 * spec and generated deterministically from it: the bench (bench/scale) and the worker build the
 * same fleet from the same spec, so the bench knows every VM's name and UUID without asking.
 */
import { z } from 'zod';

const MiB = 1024 * 1024;

export const SimFleetSpecSchema = z.strictObject({
  hosts: z.number().int().min(2).max(10_000).default(10),
  vmsPerHost: z.number().int().min(1).max(10_000).default(10),
  /** Each VM's RAM is one of these (MiB), picked by the seed. */
  memoryMiB: z.array(z.number().int().min(16).max(4 * 1024 * 1024)).min(1).default([512, 1024, 2048]),
  /** Each VM dirties at a rate drawn uniformly from this range (MiB/s). */
  dirtyMiBps: z.tuple([z.number().min(0), z.number().min(0)]).default([0, 40]),
  /** The part of its RAM a VM's writes cover (its working set), drawn uniformly from this range. */
  workingSetFraction: z.tuple([z.number().min(0.001).max(1), z.number().min(0.001).max(1)]).default([0.05, 0.5]),
  /** The part of its RAM that holds data (the rest is zero pages: free to send). */
  touchedFraction: z.number().min(0.001).max(1).default(0.6),
  /** Every link's bandwidth (MiB/s). */
  linkMiBps: z.number().positive().default(1024),
  /** Each host's RAM for guests (MiB), which Placement's simulated inventory offers. */
  hostMemoryMiB: z.number().int().positive().default(1024 * 1024),
  seed: z.number().int().default(1),
  /**
   * Simulated time runs this many times faster than real time: at 10, a migration the model says
   * takes 30 s is over in 3 s of the worker's time (the job stats still say 30 s). The workflow's
   * own timers are real time: its 2 s watch rounds see 20 s of migration each.
   */
  speed: z.number().min(0.01).max(1000).default(1),
});
export type SimFleetSpec = z.output<typeof SimFleetSpecSchema>;
export type SimFleetSpecInput = z.input<typeof SimFleetSpecSchema>;

export interface SimVmSpec {
  name: string;
  uuid: string;
  host: string;
  memoryMiB: number;
  vcpus: number;
  dirtyBps: number;
  workingSetBytes: number;
  touchedBytes: number;
}

/** mulberry32: a tiny deterministic generator (the fleet must be the same on every build). */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A version-4-shaped UUID from the generator (not random: the same spec gives the same UUIDs). */
function uuidFrom(next: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(next() * 16).toString(16));
  hex[12] = '4';
  hex[16] = '89ab'[Math.floor(next() * 4)]!;
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

export const hostName = (i: number) => `sim-h${String(i).padStart(3, '0')}`;

export function fleetOf(spec: SimFleetSpec): { hosts: string[]; vms: SimVmSpec[] } {
  const next = generator(spec.seed);
  const hosts = Array.from({ length: spec.hosts }, (_, i) => hostName(i));
  const vms: SimVmSpec[] = [];
  const [dLo, dHi] = spec.dirtyMiBps;
  const [wLo, wHi] = spec.workingSetFraction;
  for (let h = 0; h < spec.hosts; h++) {
    for (let v = 0; v < spec.vmsPerHost; v++) {
      const memoryMiB = spec.memoryMiB[Math.floor(next() * spec.memoryMiB.length)]!;
      const memoryBytes = memoryMiB * MiB;
      vms.push({
        name: `sim-vm-${String(h * spec.vmsPerHost + v).padStart(5, '0')}`,
        uuid: uuidFrom(next),
        host: hosts[h]!,
        memoryMiB,
        vcpus: 1 + Math.floor(next() * 4),
        dirtyBps: Math.round((dLo + next() * Math.max(0, dHi - dLo)) * MiB),
        workingSetBytes: Math.round(memoryBytes * (wLo + next() * Math.max(0, wHi - wLo))),
        touchedBytes: Math.round(memoryBytes * spec.touchedFraction),
      });
    }
  }
  return { hosts, vms };
}
