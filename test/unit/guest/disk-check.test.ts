import fs from 'node:fs';
import path from 'node:path';
import { describe, it, expect } from 'vitest';
import { checkGuestDisk, type DiskViolation } from '../../../lab/guest/disk-check';
import { DISK_BLOCK_BYTES, DISK_SECTOR_BYTES, decodeDiskBlock, encodeDiskBlock } from '../../../lab/guest/disk-format';
import { fnv1a32, parseGuestSerial, type ParsedSerial } from '../../../lab/guest/serial';

const fixtures = path.resolve(__dirname, '../../fixtures/guest');
const BOOT = 'c0ffee01';
const OTHER_BOOT = '0badf00d';

/** A guest line with its checksum, as guest.c prints it. */
const line = (body: string): string => `${body} ck=${fnv1a32(body).toString(16).padStart(8, '0')}`;
const bootLine = (boot: string, slots: number): string =>
  line(`ferry-guest v=1 boot=${boot} mem_mib=63 wss_mib=60 rate=0 hz=1000 tsc_khz=2000000 cal=rtc disk=50 disk_sectors=${slots * 8} disk_slots=${slots} disk_per_drq=8`);
const hbLine = (boot: string, seq: number, ack: number, tMs = seq * 250): string =>
  line(`ferry-hb boot=${boot} seq=${seq} t_ms=${tMs} gap_us=1000 edge=${Math.floor(seq / 4)} stop_us=0 win_us=0 felt_us=1000 stoptot_us=0 dirtied_mib=0 disk_ack=${ack}`);

/** One host's log: the boot line (when given) and heartbeats seqs[i] reporting acks[i]. */
function log(opts: { boot?: string; slots?: number; hbs: Array<[seq: number, ack: number]>; hbBoot?: string }): ParsedSerial {
  const lines: string[] = [];
  if (opts.boot) lines.push(bootLine(opts.boot, opts.slots!));
  for (const [seq, ack] of opts.hbs) lines.push(hbLine(opts.hbBoot ?? opts.boot ?? BOOT, seq, ack));
  return parseGuestSerial(lines.join('\n') + '\n');
}

/** An image of `slots` slots after the guest wrote seqs 1..upTo (later seqs overwrite earlier). */
function image(slots: number, upTo: number, boot = BOOT): Buffer {
  const img = Buffer.alloc(slots * DISK_BLOCK_BYTES);
  for (let seq = 1; seq <= upTo; seq++) encodeDiskBlock(Number.parseInt(boot, 16), seq, slots).copy(img, (seq % slots) * DISK_BLOCK_BYTES);
  return img;
}
const put = (img: Buffer, slot: number, block: Uint8Array, fromSector = 0, toSector = 8): void => {
  Buffer.from(block).copy(img, slot * DISK_BLOCK_BYTES + fromSector * DISK_SECTOR_BYTES, fromSector * DISK_SECTOR_BYTES, toSector * DISK_SECTOR_BYTES);
};
const block = (seq: number, slots: number, boot = BOOT): Buffer => encodeDiskBlock(Number.parseInt(boot, 16), seq, slots);
const hbRun = (n: number, ackAt: (i: number) => number): Array<[number, number]> => Array.from({ length: n }, (_, i) => [i, ackAt(i)]);
const kinds = (v: DiskViolation[]): string[] => v.map((x) => x.kind);

describe('disk block format', () => {
  it('encodes exactly the block the real guest wrote (seq 1 of boot d00727cd, a 1024-slot ring, under QEMU)', () => {
    const real = fs.readFileSync(path.join(fixtures, 'disk-block-d00727cd-seq1.bin'));
    expect(real.length).toBe(DISK_BLOCK_BYTES);
    expect(Buffer.compare(real, encodeDiskBlock(0xd00727cd, 1, 1024))).toBe(0);
    expect(decodeDiskBlock(real)).toEqual({ empty: false, magicOk: true, checksumOk: true, version: 1, boot: 0xd00727cd, slots: 1024, seq: 1, lba: 8 });
    expect(real.subarray(0, 4).toString('latin1')).toBe('FDSK');
  });

  it('refuses a seq the guest never writes and a ring without slots', () => {
    expect(() => encodeDiskBlock(1, 0, 16)).toThrow(/seq must be a positive integer, got 0/);
    expect(() => encodeDiskBlock(1, 3, 0)).toThrow(/slots must be a positive integer, got 0/);
  });
});

describe('checkGuestDisk', () => {
  it('finds a ring that has not wrapped yet clean, every acknowledged seq checked', () => {
    const v = checkGuestDisk({ image: image(64, 40), logs: [log({ boot: BOOT, slots: 64, hbs: hbRun(9, (i) => i * 5) })] });
    expect(v.violations).toEqual([]);
    expect(v).toMatchObject({ clean: true, boot: BOOT, slots: 64, lastAckReported: 40, lastWritten: 40, checked: { from: 1, to: 40 } });
    expect(v.inFlight).toEqual({ seq: 41, slot: 41, holds: 'old' });
  });

  it('ignores what an earlier boot left in slots this boot has not reached yet', () => {
    const img = image(16, 40, OTHER_BOOT);
    for (let seq = 1; seq <= 6; seq++) put(img, seq, block(seq, 16));
    const v = checkGuestDisk({ image: img, logs: [log({ boot: BOOT, slots: 16, hbs: [[0, 0], [1, 6]] })] });
    expect(v).toMatchObject({ clean: true, lastWritten: 6, checked: { from: 1, to: 6 }, inFlight: { seq: 7, slot: 7, holds: 'old' } });
  });

  it('finds a wrapped ring clean and checks only the last `slots` seqs', () => {
    const v = checkGuestDisk({ image: image(16, 50), logs: [log({ boot: BOOT, slots: 16, hbs: hbRun(11, (i) => i * 5) })] });
    expect(v).toMatchObject({ clean: true, lastWritten: 50, checked: { from: 35, to: 50 } });
    expect(v.inFlight).toEqual({ seq: 51, slot: 3, holds: 'old' });
  });

  it('counts whole blocks written after the last heartbeat as acknowledged, and checks up to them', () => {
    const v = checkGuestDisk({ image: image(16, 53), logs: [log({ boot: BOOT, slots: 16, hbs: hbRun(11, (i) => i * 5) })] });
    expect(v).toMatchObject({ clean: true, lastAckReported: 50, lastWritten: 53, checked: { from: 38, to: 53 } });
  });

  it('names a lost acknowledged write: its slot holds the block the write replaced, or zeros', () => {
    const img = image(16, 50);
    put(img, 45 % 16, block(29, 16));
    put(img, 47 % 16, Buffer.alloc(DISK_BLOCK_BYTES));
    const v = checkGuestDisk({ image: img, logs: [log({ boot: BOOT, slots: 16, hbs: hbRun(11, (i) => i * 5) })] });
    expect(v.clean).toBe(false);
    expect(v.violations).toEqual([
      { kind: 'lost-write', seq: 45, slot: 13, found: 'older', foundSeq: 29 },
      { kind: 'lost-write', seq: 47, slot: 15, found: 'empty' },
    ]);
  });

  it('names a torn acknowledged block (half the new write, half the old) with the sectors that landed', () => {
    const img = image(16, 50);
    put(img, 45 % 16, block(29, 16));
    put(img, 45 % 16, block(45, 16), 0, 4);
    const v = checkGuestDisk({ image: img, logs: [log({ boot: BOOT, slots: 16, hbs: hbRun(11, (i) => i * 5) })] });
    expect(v.violations).toEqual([{ kind: 'torn-block', seq: 45, slot: 13, sectorsOfThisWrite: [0, 1, 2, 3] }]);
  });

  it('names a corrupt acknowledged block (one flipped byte) apart from a torn one', () => {
    const img = image(16, 50);
    img[(45 % 16) * DISK_BLOCK_BYTES + 5 * DISK_SECTOR_BYTES + 17]! ^= 0x40;
    const v = checkGuestDisk({ image: img, logs: [log({ boot: BOOT, slots: 16, hbs: hbRun(11, (i) => i * 5) })] });
    expect(v.violations).toEqual([{ kind: 'corrupt-block', seq: 45, slot: 13, sectorsOfThisWrite: [0, 1, 2, 3, 4, 6, 7] }]);
  });

  it('accepts a torn block in the one slot being written after the last acknowledgement, and nothing else there', () => {
    const logs = [log({ boot: BOOT, slots: 16, hbs: hbRun(11, (i) => i * 5) })];
    const torn = image(16, 50);
    put(torn, 51 % 16, block(51, 16), 0, 3);
    const ok = checkGuestDisk({ image: torn, logs });
    expect(ok).toMatchObject({ clean: true, inFlight: { seq: 51, slot: 3, holds: 'torn' } });

    const garbage = image(16, 50);
    garbage.fill(0x5a, 3 * DISK_BLOCK_BYTES + 1024, 3 * DISK_BLOCK_BYTES + 1536);
    const bad = checkGuestDisk({ image: garbage, logs });
    expect(bad.violations).toEqual([{ kind: 'corrupt-in-flight', seq: 51, slot: 3 }]);
  });

  it('names a block of another boot of the guest in an acknowledged slot', () => {
    const img = image(16, 50);
    put(img, 40 % 16, block(40, 16, OTHER_BOOT));
    const v = checkGuestDisk({ image: img, logs: [log({ boot: BOOT, slots: 16, hbs: hbRun(11, (i) => i * 5) })] });
    expect(v.violations).toEqual([{ kind: 'wrong-boot', seq: 40, slot: 8, foundBoot: OTHER_BOOT }]);
  });

  it('names a reboot when the serial shows a second boot id, and checks the latest boot', () => {
    const first = log({ boot: OTHER_BOOT, slots: 16, hbs: hbRun(5, (i) => i * 5) });
    const second = log({ boot: BOOT, slots: 16, hbs: hbRun(11, (i) => i * 5) });
    const v = checkGuestDisk({ image: image(16, 50), logs: [first, second] });
    expect(v.boot).toBe(BOOT);
    expect(v.violations).toEqual([{ kind: 'rebooted', boots: [OTHER_BOOT, BOOT] }]);
  });

  it('names a missing heartbeat, a counter printed twice with other content (older memory), and disk_ack going back', () => {
    const source = log({ boot: BOOT, slots: 16, hbs: [[0, 0], [1, 5], [2, 10], [3, 15]] });
    const destination = parseGuestSerial(
      [hbLine(BOOT, 3, 14, 700), hbLine(BOOT, 4, 12), hbLine(BOOT, 6, 30), hbLine(BOOT, 7, 50)].join('\n') + '\n',
    );
    const v = checkGuestDisk({ image: image(16, 50), logs: [source, destination] });
    expect(v.violations).toEqual([
      { kind: 'heartbeat-repeated', seq: 3 },
      { kind: 'ack-went-back', seq: 4, from: 15, to: 12 },
      { kind: 'heartbeat-gap', afterSeq: 4, nextSeq: 6 },
    ]);
  });

  it('lists guest faults and disk errors from the serial', () => {
    const text = [bootLine(BOOT, 16), hbLine(BOOT, 0, 0), line(`ferry-disk-error boot=${BOOT} op=flush seq=1 status=00000051 error=00000004`), hbLine(BOOT, 1, 1), line('ferry-fault vector=13')].join('\n');
    const parsed = parseGuestSerial(text + '\n');
    expect(parsed.diskErrors).toMatchObject([{ kind: 'disk-error', boot: BOOT, op: 'flush', seq: 1 }]);
    const v = checkGuestDisk({ image: image(16, 1), logs: [parsed] });
    expect(kinds(v.violations)).toEqual(['guest-fault', 'disk-error']);
  });

  it('says why it cannot check: no disk_ack, no boot line with the ring, a guest that found no disk, an image too small', () => {
    const noDisk = parseGuestSerial(
      line('ferry-hb boot=c0ffee01 seq=0 t_ms=0 gap_us=1 edge=0 stop_us=0 win_us=0 felt_us=1 stoptot_us=0 dirtied_mib=0') + '\n',
    );
    expect(checkGuestDisk({ image: image(16, 0), logs: [noDisk] }).violations).toEqual([
      { kind: 'no-disk', detail: 'no heartbeat reports disk_ack: the guest was not started with disk=N' },
    ]);
    const noBootLine = log({ hbBoot: BOOT, hbs: [[0, 3]] });
    expect(checkGuestDisk({ image: image(16, 3), logs: [noBootLine] }).violations[0]).toMatchObject({ kind: 'no-disk', detail: expect.stringMatching(/no ferry-guest line of boot c0ffee01/) });
    const found0 = log({ boot: BOOT, slots: 0, hbs: [[0, 0]] });
    expect(checkGuestDisk({ image: image(16, 0), logs: [found0] }).violations[0]).toMatchObject({ kind: 'no-disk', detail: expect.stringMatching(/found no disk/) });
    const small = checkGuestDisk({ image: image(8, 5), logs: [log({ boot: BOOT, slots: 16, hbs: [[0, 5]] })] });
    expect(small.violations).toEqual([{ kind: 'image-too-small', bytes: 8 * 4096, needed: 16 * 4096 }]);
  });

  it('lists at most 50 block violations and says how many more', () => {
    const v = checkGuestDisk({ image: image(128, 0), logs: [log({ boot: BOOT, slots: 128, hbs: [[0, 100]] })] });
    expect(v.violations).toHaveLength(51);
    expect(v.violations[0]).toEqual({ kind: 'lost-write', seq: 1, slot: 1, found: 'empty' });
    expect(v.violations[50]).toEqual({ kind: 'truncated', more: 50 });
  });
});
