import {
  DISK_BLOCK_BYTES,
  DISK_BLOCK_SECTORS,
  DISK_FORMAT_VERSION,
  decodeDiskBlock,
  encodeDiskBlock,
  sectorsEqual,
  type DecodedBlock,
} from './disk-format';
import { mergeGuestSerial, type Heartbeat, type ParsedSerial } from './serial';

/**
 * PURE: after a migration, an abort or a fault, did the lab guest's disk keep every write it
 * acknowledged, and did the guest run on without a restart? Input: the bytes of the (raw) disk
 * image and the guest's serial logs, one per host it ran on. Output: a verdict with a list of
 * named violations, never just a boolean.
 *
 * What "acknowledged" means: the guest reports in each heartbeat `disk_ack`, the highest seq whose
 * write and FLUSH CACHE completed. The checker takes T = the highest of the last reported
 * disk_ack and of the newest valid block of the boot in the image (a block written whole after the
 * last heartbeat proves that every seq before it was acknowledged: the guest writes one at a time).
 * Then every seq in (T - slots, T] must sit whole in its slot, with the right boot id. The one slot
 * the guest may have been writing when it stopped (seq T + 1) may hold its old block, the new
 * one, or a mix of the two sector by sector: that write was never acknowledged. Anything else in
 * it is corruption.
 */
export type DiskViolation =
  | { kind: 'no-disk'; detail: string }
  | { kind: 'rebooted'; boots: string[] }
  | { kind: 'guest-fault'; text: string }
  | { kind: 'disk-error'; text: string }
  | { kind: 'heartbeat-gap'; afterSeq: number; nextSeq: number }
  /** The same heartbeat counter printed twice with different content: the guest ran again from older memory. */
  | { kind: 'heartbeat-repeated'; seq: number }
  | { kind: 'ack-went-back'; seq: number; from: number; to: number }
  | { kind: 'image-too-small'; bytes: number; needed: number }
  /** An acknowledged seq is not in its slot; `found` says what is there instead. */
  | { kind: 'lost-write'; seq: number; slot: number; found: 'empty' | 'older' | 'newer' | 'garbage'; foundSeq?: number }
  /** An acknowledged seq's slot holds a block written by another boot of the guest. */
  | { kind: 'wrong-boot'; seq: number; slot: number; foundBoot: string }
  /** A whole block whose header disagrees with where it sits (LBA, ring size, version). */
  | { kind: 'misplaced-block'; seq: number; slot: number; detail: string }
  /** An acknowledged seq's slot is part this write and part the block it replaced, sector by sector. */
  | { kind: 'torn-block'; seq: number; slot: number; sectorsOfThisWrite: number[] }
  /** An acknowledged seq's slot has sectors that are neither this write's nor the replaced block's. */
  | { kind: 'corrupt-block'; seq: number; slot: number; sectorsOfThisWrite: number[] }
  /** The in-flight slot holds sectors that are neither its old block nor the new one. */
  | { kind: 'corrupt-in-flight'; seq: number; slot: number }
  /** More violations were found than are listed. */
  | { kind: 'truncated'; more: number };

export interface DiskVerdict {
  /** No violation. */
  clean: boolean;
  /** The boot id checked (the boot of the last heartbeat that reported disk_ack). */
  boot: string | null;
  slots: number;
  /** The last disk_ack the serial reported. */
  lastAckReported: number;
  /** T: the newest seq known acknowledged (see above). */
  lastWritten: number;
  /** The acknowledged seqs checked in the image: from..to inclusive (empty when to < from). */
  checked: { from: number; to: number };
  /** The slot of seq T + 1 and what it holds. */
  inFlight: { seq: number; slot: number; holds: 'old' | 'new' | 'torn' | 'other' } | null;
  violations: DiskViolation[];
}

const MAX_VIOLATIONS = 50;
const hex8 = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');

/** The heartbeat-level checks: one boot, no gap, no repeat, disk_ack never goes back. */
function serialViolations(logs: ParsedSerial[], merged: ParsedSerial, boot: string): DiskViolation[] {
  const out: DiskViolation[] = [];
  const boots = [...new Set([...merged.boots.map((b) => b.boot), ...merged.heartbeats.map((h) => h.boot)])];
  if (boots.length > 1) out.push({ kind: 'rebooted', boots });
  for (const f of merged.faults) out.push({ kind: 'guest-fault', text: f.text });
  for (const e of merged.diskErrors) out.push({ kind: 'disk-error', text: e.text });
  // Before merging (which drops duplicates): one counter printed twice with different content
  // means a host resumed the guest from memory older than another host had.
  const bySeq = new Map<number, Heartbeat>();
  for (const log of logs) {
    for (const h of log.heartbeats) {
      if (h.boot !== boot) continue;
      const prev = bySeq.get(h.seq);
      if (prev && (prev.tMs !== h.tMs || prev.diskAck !== h.diskAck || prev.edge !== h.edge)) out.push({ kind: 'heartbeat-repeated', seq: h.seq });
      else bySeq.set(h.seq, h);
    }
  }
  const hbs = merged.heartbeats.filter((h) => h.boot === boot);
  for (let i = 1; i < hbs.length; i++) {
    const a = hbs[i - 1]!;
    const b = hbs[i]!;
    if (b.seq !== a.seq + 1) out.push({ kind: 'heartbeat-gap', afterSeq: a.seq, nextSeq: b.seq });
    if (a.diskAck !== undefined && b.diskAck !== undefined && b.diskAck < a.diskAck) {
      out.push({ kind: 'ack-went-back', seq: b.seq, from: a.diskAck, to: b.diskAck });
    }
  }
  return out;
}

function slotBytes(image: Uint8Array, slot: number): Uint8Array {
  return image.subarray(slot * DISK_BLOCK_BYTES, (slot + 1) * DISK_BLOCK_BYTES);
}

/** A block that is whole and belongs where it sits, for this boot and ring. */
function isValid(d: DecodedBlock, slot: number, boot: number, slots: number): boolean {
  return (
    d.magicOk &&
    d.checksumOk &&
    d.version === DISK_FORMAT_VERSION &&
    d.boot === boot &&
    d.slots === slots &&
    d.seq >= 1 &&
    d.seq % slots === slot &&
    d.lba === slot * DISK_BLOCK_SECTORS
  );
}

/** Why the slot of acknowledged seq `seq` does not hold it. */
function explain(bytes: Uint8Array, d: DecodedBlock, seq: number, slot: number, boot: number, slots: number): DiskViolation {
  if (d.empty) return { kind: 'lost-write', seq, slot, found: 'empty' };
  if (d.magicOk && d.checksumOk) {
    if (d.boot !== boot) return { kind: 'wrong-boot', seq, slot, foundBoot: hex8(d.boot) };
    if (d.version !== DISK_FORMAT_VERSION) return { kind: 'misplaced-block', seq, slot, detail: `version ${d.version}` };
    if (d.slots !== slots) return { kind: 'misplaced-block', seq, slot, detail: `ring of ${d.slots} slots, expected ${slots}` };
    if (d.lba !== slot * DISK_BLOCK_SECTORS || d.seq % slots !== slot) {
      return { kind: 'misplaced-block', seq, slot, detail: `block of seq ${d.seq} at LBA ${d.lba} found in slot ${slot}` };
    }
    return { kind: 'lost-write', seq, slot, found: d.seq < seq ? 'older' : 'newer', foundSeq: d.seq };
  }
  // Not whole: which sectors are this write's, and are the others the block it replaced (torn)?
  const mine = sectorsEqual(bytes, encodeDiskBlock(boot, seq, slots));
  const sectorsOfThisWrite = mine.flatMap((ok, i) => (ok ? [i] : []));
  if (sectorsOfThisWrite.length === 0) return { kind: 'lost-write', seq, slot, found: 'garbage' };
  const replaced = sectorsEqual(bytes, previousOccupant(seq, boot, slots));
  const torn = mine.every((m, i) => m || replaced[i]);
  return { kind: torn ? 'torn-block' : 'corrupt-block', seq, slot, sectorsOfThisWrite };
}

/** The block that seq's write replaced: seq - slots, or zeros before the ring wrapped (a fresh image). */
function previousOccupant(seq: number, boot: number, slots: number): Uint8Array {
  return seq - slots >= 1 ? encodeDiskBlock(boot, seq - slots, slots) : new Uint8Array(DISK_BLOCK_BYTES);
}

/** What the in-flight slot (seq T + 1, never acknowledged) holds; 'other' is corruption. */
function inFlightHolds(bytes: Uint8Array, seq: number, boot: number, slots: number): 'old' | 'new' | 'torn' | 'other' {
  const fresh = sectorsEqual(bytes, encodeDiskBlock(boot, seq, slots));
  if (fresh.every(Boolean)) return 'new';
  const oldSeq = seq - slots;
  const stale = sectorsEqual(bytes, previousOccupant(seq, boot, slots));
  if (stale.every(Boolean)) return 'old';
  if (fresh.every((f, i) => f || stale[i])) return 'torn';
  if (oldSeq >= 1) return 'other';
  // Before the ring wrapped, the slot may still hold an earlier boot's block: nothing to judge.
  return fresh.some(Boolean) ? 'torn' : 'old';
}

export interface DiskCheckInput {
  /** The raw image's bytes (at least slots × 4 KiB). */
  image: Uint8Array;
  /** The guest's serial log from each host it ran on, each parsed on its own (readGuestSerial). */
  logs: ParsedSerial[];
}

export function checkGuestDisk(input: DiskCheckInput): DiskVerdict {
  const merged = mergeGuestSerial(input.logs);
  const acked = merged.heartbeats.filter((h) => h.diskAck !== undefined);
  const last = acked.at(-1);
  const none = (detail: string): DiskVerdict => ({
    clean: false,
    boot: last?.boot ?? null,
    slots: 0,
    lastAckReported: 0,
    lastWritten: 0,
    checked: { from: 1, to: 0 },
    inFlight: null,
    violations: [{ kind: 'no-disk', detail }],
  });
  if (!last) return none('no heartbeat reports disk_ack: the guest was not started with disk=N');
  const boot = last.boot;
  const bootLine = merged.boots.find((b) => b.boot === boot);
  const slots = bootLine?.diskSlots;
  if (slots === undefined) return none(`no ferry-guest line of boot ${boot} with disk_slots: pass the log of the host the guest booted on`);
  if (slots === 0) return none(`boot ${boot} found no disk (disk_sectors=${bootLine?.diskSectors ?? 0})`);

  const violations = serialViolations(input.logs, merged, boot);
  const lastAckReported = Math.max(...acked.filter((h) => h.boot === boot).map((h) => h.diskAck!));
  const needed = slots * DISK_BLOCK_BYTES;
  if (input.image.length < needed) {
    violations.push({ kind: 'image-too-small', bytes: input.image.length, needed });
    return { clean: false, boot, slots, lastAckReported, lastWritten: lastAckReported, checked: { from: 1, to: 0 }, inFlight: null, violations };
  }

  const bootId = Number.parseInt(boot, 16);
  const decoded = Array.from({ length: slots }, (_, slot) => decodeDiskBlock(slotBytes(input.image, slot)));
  // T: a whole block of this boot newer than the last report proves all before it acknowledged.
  let lastWritten = lastAckReported;
  decoded.forEach((d, slot) => {
    if (isValid(d, slot, bootId, slots) && d.seq > lastWritten) lastWritten = d.seq;
  });
  const from = Math.max(1, lastWritten - slots + 1);
  const inFlightSeq = lastWritten + 1;
  const inFlightSlot = inFlightSeq % slots;
  const blockViolations: DiskViolation[] = [];
  for (let seq = from; seq <= lastWritten; seq++) {
    const slot = seq % slots;
    if (slot === inFlightSlot && seq === inFlightSeq - slots) continue; // judged as in flight below
    const d = decoded[slot]!;
    if (isValid(d, slot, bootId, slots) && d.seq === seq) continue;
    blockViolations.push(explain(slotBytes(input.image, slot), d, seq, slot, bootId, slots));
  }
  const holds = inFlightHolds(slotBytes(input.image, inFlightSlot), inFlightSeq, bootId, slots);
  if (holds === 'other') blockViolations.push({ kind: 'corrupt-in-flight', seq: inFlightSeq, slot: inFlightSlot });
  if (blockViolations.length > MAX_VIOLATIONS) {
    const more = blockViolations.length - MAX_VIOLATIONS;
    blockViolations.length = MAX_VIOLATIONS;
    blockViolations.push({ kind: 'truncated', more });
  }
  violations.push(...blockViolations);
  return {
    clean: violations.length === 0,
    boot,
    slots,
    lastAckReported,
    lastWritten,
    checked: { from, to: lastWritten },
    inFlight: { seq: inFlightSeq, slot: inFlightSlot, holds },
    violations,
  };
}
