import { z } from 'zod';

/**
 * PURE: what the migration stream between one pair of hosts can use, decided from the versions
 * both hosts reported in the pre-checks (facts), and how ferry uses it.
 *
 * The minimum versions are where libvirt and QEMU first shipped each feature; both ends must have
 * it, since libvirt negotiates every capability with the destination. Read from the source QEMU
 * during post-copy jobs on the lab (test/integration/data-path.test.ts): libvirt 11.3
 * (bookworm-backports) turns QEMU's postcopy-preempt capability on by itself, for QEMU 10.0 and for
 * Debian 12's QEMU 7.2 (where the capability exists, marked unstable, since 7.1); Debian 12's own
 * libvirt 9.0 does not. The libvirt release that started doing so lies between; ferry claims
 * preemption only from the first release seen doing it. QEMU 10.0 refuses multifd together with
 * post-copy ("Postcopy is not yet compatible with multifd").
 */

/** libvirt's and QEMU's versions packed as major * 1e6 + minor * 1e3 + micro (virConnectGet*Version). */
export const HostStackSchema = z.object({
  libvirt: z.number().int().nonnegative(),
  qemu: z.number().int().nonnegative(),
});
export type HostStack = z.infer<typeof HostStackSchema>;

export const PairStacksSchema = z.object({ source: HostStackSchema, destination: HostStackSchema });
export type PairStacks = z.infer<typeof PairStacksSchema>;

const v = (major: number, minor: number, micro = 0) => major * 1_000_000 + minor * 1_000 + micro;

/** Each feature's first libvirt and QEMU; `null` QEMU: no QEMU side to it. */
export const FEATURE_MINIMUMS = {
  /** VIR_MIGRATE_POSTCOPY_RESUME: recovering a broken post-copy instead of losing the guest. */
  postcopyRecovery: { libvirt: v(8, 5), qemu: v(3, 0) },
  /** QEMU's postcopy-preempt (a second channel for faulted pages, QEMU 7.1); libvirt enables it itself (11.3 seen, 9.0 not). */
  postcopyPreempt: { libvirt: v(11, 3), qemu: v(7, 1) },
  /** VIR_MIGRATE_PARALLEL (QEMU multifd). */
  multifd: { libvirt: v(5, 2), qemu: v(4, 0) },
  /** Multifd in the same migration as post-copy. */
  multifdWithPostcopy: { libvirt: v(5, 2), qemu: v(10, 1) },
  /** bandwidth.avail.switchover (QEMU's avail-switchover-bandwidth). */
  switchoverBandwidth: { libvirt: v(10, 0), qemu: v(8, 2) },
} as const;
export type DataPathFeature = keyof typeof FEATURE_MINIMUMS;

export function pairHas(stacks: PairStacks, feature: DataPathFeature): boolean {
  const min = FEATURE_MINIMUMS[feature];
  return [stacks.source, stacks.destination].every((h) => h.libvirt >= min.libvirt && h.qemu >= min.qemu);
}

/**
 * The QEMU version a machine type names (pc-i440fx-7.2, pc-q35-10.0 -> 7.2.0, 10.0.0): what libvirt's
 * domain capabilities report as the default machine of one emulator binary, so a guest whose
 * <emulator> is not the host's default QEMU is judged by its own QEMU. Null for names without a
 * version (distribution machine types such as pc-q35-rhel9.4.0).
 */
export function qemuVersionFromMachine(machine: string): number | null {
  const m = /^(?:pc-i440fx|pc-q35|pc|q35|virt)-(\d+)\.(\d+)$/.exec(machine);
  return m ? v(Number(m[1]), Number(m[2])) : null;
}

export function formatVersion(packed: number): string {
  return `${Math.floor(packed / 1_000_000)}.${Math.floor(packed / 1_000) % 1_000}.${packed % 1_000}`;
}

export interface DataPathWish {
  /** Post-copy may be started in this migration (policy and eligibility). */
  postcopy: boolean;
  /** Parallel connections the policy asks for (0 or 1: a single stream). */
  parallelConnections: number;
  /** Bandwidth the operator guarantees for the switch-over, MiB/s; null: QEMU estimates. */
  switchoverBandwidthMiBps: number | null;
  /** The policy asks for an encrypted stream (absent: histories from before the option). */
  tls?: boolean;
}

export const DataPathSchema = z.object({
  /** libvirt turns it on with post-copy when both ends have it; recorded so the outcome can be read. */
  postcopyPreempt: z.boolean(),
  /** Connections for multifd; null: one stream. */
  parallelConnections: z.number().int().min(2).nullable(),
  switchoverBandwidthMiBps: z.number().positive().nullable(),
  /** VIR_MIGRATE_TLS (absent: a decision recorded before the option, i.e. off). */
  tls: z.boolean().optional(),
  /** One line per feature: used, or why not. */
  why: z.array(z.string()),
});
export type DataPath = z.infer<typeof DataPathSchema>;

/** The best data path this pair offers for what the migration wants. */
export function chooseDataPath(stacks: PairStacks, wish: DataPathWish): DataPath {
  const why: string[] = [];
  const pair = `libvirt ${formatVersion(stacks.source.libvirt)}/${formatVersion(stacks.destination.libvirt)}, ` +
    `QEMU ${formatVersion(stacks.source.qemu)}/${formatVersion(stacks.destination.qemu)}`;

  const preempt = wish.postcopy && pairHas(stacks, 'postcopyPreempt');
  if (!wish.postcopy) why.push('post-copy preemption: not needed (no post-copy in this migration)');
  else why.push(preempt
    ? 'post-copy preemption: on (libvirt enables it with post-copy; faulted pages skip the bulk stream)'
    : `post-copy preemption: unavailable on ${pair} (needs libvirt 11.3 and QEMU 7.1 on both ends)`);

  let parallel: number | null = null;
  if (wish.parallelConnections < 2) why.push('multifd: not asked for (policy dataPath.parallelConnections)');
  else if (!pairHas(stacks, 'multifd')) why.push(`multifd: unavailable on ${pair} (needs libvirt 5.2 and QEMU 4.0 on both ends)`);
  else if (wish.postcopy && !pairHas(stacks, 'multifdWithPostcopy')) {
    why.push(`multifd: not used, post-copy may be started and ${pair} cannot combine them (QEMU 10.1 can)`);
  } else {
    parallel = wish.parallelConnections;
    why.push(`multifd: ${parallel} connections`);
  }

  let switchover: number | null = null;
  if (wish.switchoverBandwidthMiBps === null) why.push('switch-over bandwidth: QEMU estimates it (no bandwidth given)');
  else if (!pairHas(stacks, 'switchoverBandwidth')) why.push(`switch-over bandwidth hint: unavailable on ${pair} (needs libvirt 10.0 and QEMU 8.2)`);
  else {
    switchover = wish.switchoverBandwidthMiBps;
    why.push(`switch-over bandwidth hint: ${switchover} MiB/s`);
  }
  // Every libvirt and QEMU ferry supports has it: only asked for or not. Not mentioned when off, so
  // a decision reads as it did before the option.
  if (wish.tls) why.push('migration stream: TLS (VIR_MIGRATE_TLS; each QEMU checks the other\'s certificate)');
  return { postcopyPreempt: preempt, parallelConnections: parallel, switchoverBandwidthMiBps: switchover, ...(wish.tls ? { tls: true } : {}), why };
}
