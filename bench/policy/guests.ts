/**
 * The guests of the policy bench: the lab's own test guest in four (plus one) behaviours. Sizes are
 * chosen against the capped link so that every case is reproducible on a 2-core machine under TCG.
 */
export interface GuestProfile {
  id: string;
  label: string;
  memoryMiB: number;
  rateMiBps: number | 'max';
  wssMiB?: number;
  driftMiBps?: number;
  /** The QEMU binary (absent: the lab's own, QEMU 10); set by --qemu debian12 (lab/legacy-qemu.ts). */
  emulator?: string;
}

/** The same guest run by Debian 12's QEMU 7.2 (no post-copy preemption): id suffixed '-q72'. */
export function onLegacyQemu(g: GuestProfile, emulator: string): GuestProfile {
  return { ...g, id: `${g.id}-q72`, label: `${g.label}, on QEMU 7.2`, emulator };
}

export const GUEST_MEMORY_MIB = 128;

export const GUESTS: GuestProfile[] = [
  { id: 'idle', label: 'idle', memoryMiB: GUEST_MEMORY_MIB, rateMiBps: 0 },
  // A quarter of a 400 Mbit/s link (~48 MiB/s): converges in a few passes.
  { id: 'below', label: 'dirties 12 MiB/s over a 64 MiB working set (below the link)', memoryMiB: GUEST_MEMORY_MIB, rateMiBps: 12, wssMiB: 64 },
  // Rewrites all its RAM as fast as TCG runs (several times the link): never converges.
  { id: 'above', label: 'rewrites all its RAM at full speed (well above the link)', memoryMiB: GUEST_MEMORY_MIB, rateMiBps: 'max' },
  // A 32 MiB hot set dirtied above the link that slides through RAM at 16 MiB/s: saw-tooth remaining.
  { id: 'moving', label: '32 MiB hot set at 64 MiB/s sliding through RAM at 16 MiB/s', memoryMiB: GUEST_MEMORY_MIB, rateMiBps: 64, wssMiB: 32, driftMiBps: 16 },
  // The stall case: a small hot set (16 MiB) dirtied faster than the link.
  { id: 'hot16', label: '16 MiB hot set rewritten at full speed', memoryMiB: GUEST_MEMORY_MIB, rateMiBps: 'max', wssMiB: 16 },
];

export function guestById(id: string): GuestProfile {
  const g = GUESTS.find((x) => x.id === id);
  if (!g) throw new Error(`--guests: unknown guest '${id}'; known: ${GUESTS.map((x) => x.id).join(', ')}`);
  return g;
}

/**
 * The same behaviour in a guest of `memoryMiB`: working set and drift scaled with the RAM, the
 * rate kept (a rate is what the guest does, not how big it is); id suffixed with the size. For
 * guests where the link's time outweighs a migration's fixed costs (setup, finish).
 */
export function scaledTo(g: GuestProfile, memoryMiB: number): GuestProfile {
  if (memoryMiB === g.memoryMiB) return g;
  const k = memoryMiB / g.memoryMiB;
  return {
    ...g, id: `${g.id}-${memoryMiB}`, label: `${g.label}, in ${memoryMiB} MiB`, memoryMiB,
    ...(g.wssMiB !== undefined ? { wssMiB: Math.round(g.wssMiB * k) } : {}),
    ...(g.driftMiBps !== undefined ? { driftMiBps: Math.round(g.driftMiBps * k) } : {}),
  };
}
