/**
 * Reader for the lab guest's COM1 log: typed heartbeat records, and the host-side reset of the
 * stall meter (a mark taken from the latest heartbeat; stallSince() looks only after it).
 * Line formats and the meter's definition: lab/guest/README.md.
 */
import fs from 'node:fs/promises';
import { z } from 'zod';

const hex8 = z.string().regex(/^[0-9a-f]{8}$/);
const uint = z.coerce.number().int().nonnegative();
const sint = z.coerce.number().int();

export const GuestBootSchema = z.object({
  kind: z.literal('boot'),
  boot: hex8,
  memMiB: uint,
  wssMiB: uint,
  rate: z.union([z.literal('max'), uint]),
  hz: uint,
  tscKhz: uint,
  cal: z.enum(['rtc', 'pit']),
  /** Only with disk=N: the blocks per second asked for. */
  disk: uint.optional(),
  /** Only with disk=N: the disk's LBA28 sectors from IDENTIFY (0: no disk found). */
  diskSectors: uint.optional(),
  /** Only with disk=N: the 4 KiB slots of the ring the guest writes round-robin (0: no disk). */
  diskSlots: uint.optional(),
  /** Only with disk=N: sectors per DRQ burst (8 after SET MULTIPLE, else 1). */
  diskPerDrq: uint.optional(),
  byteOffset: uint,
});
export type GuestBoot = z.infer<typeof GuestBootSchema>;

export const HeartbeatSchema = z.object({
  kind: z.literal('hb'),
  boot: hex8,
  /** Heartbeat counter, +1 per line, continues across migrations; restarts at 0 on a new boot. */
  seq: uint,
  /** Guest TSC time since the first heartbeat (does not advance while the VM is stopped). */
  tMs: uint,
  /** Longest gap between main-loop iterations since the previous heartbeat (µs). */
  gapUs: uint,
  /** Number of completed RTC intervals (one per RTC second edge the guest observed). */
  edge: uint,
  /** Stopped time attributed to the last completed RTC interval (µs, signed, drift-corrected). */
  stopUs: sint,
  /** felt of the windows completed since the previous heartbeat (else the latest window) (µs). */
  winUs: uint,
  /** max(gapUs, felt of the last 4 windows) (µs). */
  feltUs: uint,
  /** Sum of stopUs over all completed intervals since boot (µs, signed). */
  stoptotUs: sint,
  /** MiB dirtied since boot (pages touched / 256). */
  dirtiedMiB: uint,
  /** Only with disk=N: the highest block seq whose write and FLUSH CACHE completed (0: none yet). */
  diskAck: uint.optional(),
  /** Only with disk=N: the longest time one loop iteration spent on the disk since the previous line (µs). */
  diskUs: uint.optional(),
  /** Only after a disk error: how many ferry-disk-error lines this boot printed. */
  diskErr: uint.optional(),
  /** Byte offset of the line in the file it was read from (file-specific, informative). */
  byteOffset: uint,
});
export type Heartbeat = z.infer<typeof HeartbeatSchema>;

/** A `ferry-disk-error` line: an ATA command failed or timed out; the guest retries the same seq. */
export interface GuestDiskError {
  kind: 'disk-error';
  boot: string;
  op: string;
  seq: number;
  text: string;
  byteOffset: number;
}

export interface GuestFault {
  kind: 'fault';
  text: string;
  byteOffset: number;
}

/** A line that did not parse or failed its checksum: noise or a line torn by a migration. */
export interface SerialFragment {
  text: string;
  byteOffset: number;
  /** True for the file's last bytes when they do not end with a newline. */
  tail: boolean;
}

export interface ParsedSerial {
  boots: GuestBoot[];
  heartbeats: Heartbeat[];
  faults: GuestFault[];
  diskErrors: GuestDiskError[];
  fragments: SerialFragment[];
}

/** FNV-1a 32, as in guest.c (over the line's bytes before " ck="). The guest prints ASCII only. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i) & 0xff;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function checksummed(line: string): string | undefined {
  const m = /^(.*) ck=([0-9a-f]{8})$/.exec(line);
  if (!m) return undefined;
  return fnv1a32(m[1]!) === Number.parseInt(m[2]!, 16) ? m[1] : undefined;
}

function fields(body: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const tok of body.split(' ')) {
    const i = tok.indexOf('=');
    if (i > 0) out[tok.slice(0, i)] = tok.slice(i + 1);
  }
  return out;
}

type Parsed = GuestBoot | Heartbeat | GuestFault | GuestDiskError | undefined;

/** The fields a line carries only in some configurations: absent stays absent (not undefined). */
function optional(f: Record<string, string>, names: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [wire, key] of Object.entries(names)) if (f[wire] !== undefined) out[key] = f[wire];
  return out;
}

/** Parses one line (without its newline). Returns undefined when it is not a valid guest line. */
export function parseGuestLine(line: string, byteOffset = 0): Parsed {
  const body = checksummed(line.replace(/\r$/, ''));
  if (body === undefined) return undefined;
  const f = fields(body);
  if (body.startsWith('ferry-hb ')) {
    const r = HeartbeatSchema.safeParse({
      kind: 'hb',
      boot: f.boot,
      seq: f.seq,
      tMs: f.t_ms,
      gapUs: f.gap_us,
      edge: f.edge,
      stopUs: f.stop_us,
      winUs: f.win_us,
      feltUs: f.felt_us,
      stoptotUs: f.stoptot_us,
      dirtiedMiB: f.dirtied_mib,
      ...optional(f, { disk_ack: 'diskAck', disk_us: 'diskUs', disk_err: 'diskErr' }),
      byteOffset,
    });
    return r.success ? r.data : undefined;
  }
  if (body.startsWith('ferry-guest ')) {
    const r = GuestBootSchema.safeParse({
      kind: 'boot',
      boot: f.boot,
      memMiB: f.mem_mib,
      wssMiB: f.wss_mib,
      rate: f.rate,
      hz: f.hz,
      tscKhz: f.tsc_khz,
      cal: f.cal,
      ...optional(f, { disk: 'disk', disk_sectors: 'diskSectors', disk_slots: 'diskSlots', disk_per_drq: 'diskPerDrq' }),
      byteOffset,
    });
    return r.success ? r.data : undefined;
  }
  if (body.startsWith('ferry-disk-error ')) {
    const seq = Number(f.seq);
    if (!/^[0-9a-f]{8}$/.test(f.boot ?? '') || !f.op || !Number.isSafeInteger(seq)) return undefined;
    return { kind: 'disk-error', boot: f.boot!, op: f.op, seq, text: body, byteOffset };
  }
  if (body.startsWith('ferry-fault')) return { kind: 'fault', text: body, byteOffset };
  return undefined;
}

/** Parses the whole text of a serial log. Pure. */
export function parseGuestSerial(text: string): ParsedSerial {
  const out: ParsedSerial = { boots: [], heartbeats: [], faults: [], diskErrors: [], fragments: [] };
  let pos = 0;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    const end = nl < 0 ? text.length : nl;
    const line = text.slice(pos, end);
    // Offsets in bytes: the guest writes ASCII, but noise may not be.
    const byteOffset = Buffer.byteLength(text.slice(0, pos), 'utf8');
    if (line.trim() !== '') {
      const r = parseGuestLine(line, byteOffset);
      if (r === undefined) out.fragments.push({ text: line, byteOffset, tail: nl < 0 });
      else if (r.kind === 'hb') out.heartbeats.push(r);
      else if (r.kind === 'boot') out.boots.push(r);
      else if (r.kind === 'disk-error') out.diskErrors.push(r);
      else out.faults.push(r);
    }
    pos = end + 1;
  }
  return out;
}

/** Reads and parses a serial log. A missing file reads as empty when missingOk is set. */
export async function readGuestSerial(path: string, opts: { missingOk?: boolean } = {}): Promise<ParsedSerial> {
  let text: string;
  try {
    text = await fs.readFile(path, 'latin1');
  } catch (err) {
    if (opts.missingOk && (err as NodeJS.ErrnoException).code === 'ENOENT') return parseGuestSerial('');
    throw err;
  }
  return parseGuestSerial(text);
}

/**
 * Merges the logs of one guest read on several hosts (each host's QEMU writes its own copy of the
 * serial file). Heartbeats are de-duplicated by (boot, seq) and ordered by boot, then seq. A line
 * torn by the switchover (prefix at the end of one log, rest in another) is repaired when a
 * prefix + suffix pair passes the checksum.
 */
export function mergeGuestSerial(logs: ParsedSerial[]): ParsedSerial {
  const all: ParsedSerial = { boots: [], heartbeats: [], faults: [], diskErrors: [], fragments: [] };
  for (const l of logs) {
    all.boots.push(...l.boots);
    all.heartbeats.push(...l.heartbeats);
    all.faults.push(...l.faults);
    all.diskErrors.push(...l.diskErrors);
    all.fragments.push(...l.fragments);
  }
  const used = new Set<SerialFragment>();
  for (const pre of all.fragments) {
    if (!pre.text.startsWith('ferry-') || used.has(pre)) continue;
    for (const suf of all.fragments) {
      if (suf === pre || used.has(suf)) continue;
      const r = parseGuestLine(pre.text + suf.text, pre.byteOffset);
      if (r === undefined) continue;
      used.add(pre).add(suf);
      if (r.kind === 'hb') all.heartbeats.push(r);
      else if (r.kind === 'boot') all.boots.push(r);
      else if (r.kind === 'disk-error') all.diskErrors.push(r);
      else all.faults.push(r);
      break;
    }
  }
  all.fragments = all.fragments.filter((f) => !used.has(f));

  const bootOrder = new Map<string, number>();
  for (const b of all.boots) if (!bootOrder.has(b.boot)) bootOrder.set(b.boot, bootOrder.size);
  for (const h of all.heartbeats) if (!bootOrder.has(h.boot)) bootOrder.set(h.boot, bootOrder.size);
  const seen = new Set<string>();
  all.heartbeats = all.heartbeats
    .filter((h) => {
      const k = `${h.boot}/${h.seq}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    })
    .sort((a, b) => bootOrder.get(a.boot)! - bootOrder.get(b.boot)! || a.seq - b.seq);
  const seenBoot = new Set<string>();
  all.boots = all.boots.filter((b) => (seenBoot.has(b.boot) ? false : (seenBoot.add(b.boot), true)));
  return all;
}

/** The host-side reset of the stall meter: where the log stood at reset time. */
export interface GuestMark {
  boot: string;
  /** Heartbeat counter at the mark: only later heartbeats count. Valid across hosts. */
  seq: number;
  /** RTC interval count at the mark. */
  edge: number;
  /** The guest's cumulative stopped time at the mark. */
  stoptotUs: number;
  /** Byte offset of the marked line in the file it came from (that file only). */
  byteOffset: number;
}

function heartbeatsOf(x: Heartbeat[] | ParsedSerial): Heartbeat[] {
  return Array.isArray(x) ? x : x.heartbeats;
}

/** The latest heartbeat (highest seq of the latest boot), or undefined. */
export function latestHeartbeat(records: Heartbeat[] | ParsedSerial): Heartbeat | undefined {
  const hbs = heartbeatsOf(records);
  if (hbs.length === 0) return undefined;
  const lastBoot = hbs[hbs.length - 1]!.boot;
  let best: Heartbeat | undefined;
  for (const h of hbs) if (h.boot === lastBoot && (!best || h.seq > best.seq)) best = h;
  return best;
}

/** Takes a mark at the latest heartbeat ("reset the stall meter now"). */
export function markNow(records: Heartbeat[] | ParsedSerial): GuestMark | undefined {
  const h = latestHeartbeat(records);
  return h && { boot: h.boot, seq: h.seq, edge: h.edge, stoptotUs: h.stoptotUs, byteOffset: h.byteOffset };
}

export interface StallReport {
  /** The stall the guest felt since the mark: max(maxGapUs, windowUs) (µs). */
  feltUs: number;
  /** Longest gap between loop iterations in heartbeats after the mark (µs). */
  maxGapUs: number;
  /** Max window figure (gap + stopped time over 2 RTC intervals) reported after the mark (µs). */
  windowUs: number;
  /** Total stopped time (VM paused, TSC frozen) between the mark and the last heartbeat (µs). */
  stoppedUs: number;
  /** Heartbeats after the mark. */
  lines: number;
  lastSeq: number | undefined;
  /** RTC intervals completed since the mark. */
  edgesSinceMark: number;
  /**
   * True when the window that contains the largest event has been reported (2 RTC intervals
   * after it), so feltUs will not grow because of it. Poll until settled after a migration.
   */
  settled: boolean;
  /** True when heartbeats of another boot follow the mark (the guest restarted). */
  rebooted: boolean;
}

/**
 * The stall felt by the guest in heartbeats written after the mark. Windows are counted from
 * mark.edge + 2 on, so a stall up to ~1 s before the mark can still be attributed to it: take the
 * mark a few seconds after any earlier event.
 */
export function stallSince(records: Heartbeat[] | ParsedSerial, mark: GuestMark): StallReport {
  const hbs = heartbeatsOf(records);
  const after = hbs.filter((h) => h.boot === mark.boot && h.seq > mark.seq).sort((a, b) => a.seq - b.seq);
  const markIdx = hbs.findIndex((h) => h.boot === mark.boot && h.seq >= mark.seq);
  const rebooted = markIdx >= 0 && hbs.slice(markIdx).some((h) => h.boot !== mark.boot);
  let maxGapUs = 0;
  let windowUs = 0;
  for (const h of after) {
    if (h.gapUs > maxGapUs) maxGapUs = h.gapUs;
    if (h.edge >= mark.edge + 2 && h.winUs > windowUs) windowUs = h.winUs;
  }
  const feltUs = Math.max(maxGapUs, windowUs);
  // Settled: every significant event (a gap of at least half the felt figure, or a stopped-time
  // step of at least 1 ms) lies in windows already reported. A gap on a line at edge e lies in
  // interval e or e+1, so in windows up to e+2; a stop that closed interval e may spill into
  // interval e+1, so into window e+1.
  let needEdge = mark.edge + 2;
  let prevTot = mark.stoptotUs;
  for (const h of after) {
    if (h.gapUs >= Math.max(feltUs / 2, 1000)) needEdge = Math.max(needEdge, h.edge + 2);
    if (Math.abs(h.stoptotUs - prevTot) >= 1000) needEdge = Math.max(needEdge, h.edge + 1);
    prevTot = h.stoptotUs;
  }
  const last = after[after.length - 1];
  const lastEdge = last?.edge ?? mark.edge;
  return {
    feltUs,
    maxGapUs,
    windowUs,
    stoppedUs: last ? last.stoptotUs - mark.stoptotUs : 0,
    lines: after.length,
    lastSeq: last?.seq,
    edgesSinceMark: lastEdge - mark.edge,
    settled: last !== undefined && lastEdge >= needEdge,
    rebooted,
  };
}
