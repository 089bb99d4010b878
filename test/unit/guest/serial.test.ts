import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, expect } from 'vitest';
import {
  fnv1a32,
  latestHeartbeat,
  markNow,
  mergeGuestSerial,
  parseGuestLine,
  parseGuestSerial,
  readGuestSerial,
  stallSince,
  type Heartbeat,
} from '../../../lab/guest/serial';

const fixtures = path.resolve(__dirname, '../../fixtures/guest');
const fixture = (name: string): string => fs.readFileSync(path.join(fixtures, name), 'latin1');

/** The heartbeats up to and including seq, and a mark at the last of them. */
function markAt(hbs: Heartbeat[], seq: number) {
  return markNow(hbs.filter((h) => h.seq <= seq))!;
}

describe('parseGuestLine', () => {
  const hb =
    'ferry-hb boot=c1c4fc91 seq=26 t_ms=6500 gap_us=4569 edge=8 stop_us=637831 win_us=1509903 ' +
    'felt_us=1509903 stoptot_us=1501503 dirtied_mib=129 ck=043f9a50';

  it('parses a real heartbeat line into a typed record', () => {
    const body = hb.slice(0, hb.lastIndexOf(' ck='));
    expect(fnv1a32(body).toString(16).padStart(8, '0')).toBe('043f9a50');
    expect(parseGuestLine(hb, 123)).toEqual({
      kind: 'hb',
      boot: 'c1c4fc91',
      seq: 26,
      tMs: 6500,
      gapUs: 4569,
      edge: 8,
      stopUs: 637831,
      winUs: 1509903,
      feltUs: 1509903,
      stoptotUs: 1501503,
      dirtiedMiB: 129,
      byteOffset: 123,
    });
  });

  it('parses the boot line', () => {
    const line = fixture('pauses-tcg.txt').split('\n')[0]!;
    expect(parseGuestLine(line)).toMatchObject({
      kind: 'boot',
      boot: 'c1c4fc91',
      memMiB: 127,
      wssMiB: 64,
      rate: 20,
      hz: 1000,
      cal: 'rtc',
    });
  });

  it('parses negative signed fields', () => {
    const line = fixture('pauses-tcg.txt')
      .split('\n')
      .find((l) => l.includes(' stop_us=-'))!;
    const r = parseGuestLine(line) as Heartbeat;
    expect(r.kind).toBe('hb');
    expect(r.stopUs).toBeLessThan(0);
  });

  it('rejects a line whose checksum does not match, a torn line and noise', () => {
    expect(parseGuestLine(hb.replace('seq=26', 'seq=27'))).toBeUndefined();
    expect(parseGuestLine(hb.slice(0, 60))).toBeUndefined();
    expect(parseGuestLine(hb.slice(60))).toBeUndefined();
    expect(parseGuestLine('SeaBIOS (version 1.16.2-debian-1.16.2-1)')).toBeUndefined();
    expect(parseGuestLine('')).toBeUndefined();
  });

  it('accepts a CRLF line ending', () => {
    expect(parseGuestLine(`${hb}\r`)).toMatchObject({ seq: 26 });
  });
});

describe('parseGuestSerial', () => {
  it('parses a whole captured log: one boot line, consecutive heartbeats, byte offsets', () => {
    const text = fixture('pauses-tcg.txt');
    const p = parseGuestSerial(text);
    expect(p.boots).toHaveLength(1);
    expect(p.fragments).toHaveLength(0);
    expect(p.heartbeats).toHaveLength(127);
    p.heartbeats.forEach((h, i) => {
      expect(h.seq).toBe(i);
      expect(text.slice(h.byteOffset, h.byteOffset + 9)).toBe('ferry-hb ');
    });
    // Heartbeats every 250 ms of guest time (a late line shortens the next period).
    const periods = p.heartbeats.slice(1).map((h, i) => h.tMs - p.heartbeats[i]!.tMs);
    const sorted = [...periods].sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length / 2)]).toBe(250);
    const last = p.heartbeats[p.heartbeats.length - 1]!;
    expect(last.tMs / last.seq).toBeCloseTo(250, -1);
    expect(latestHeartbeat(p)?.seq).toBe(126);
  });

  it('keeps a partial last line as a tail fragment', () => {
    const text = fixture('pauses-tcg.txt');
    const cut = text.slice(0, text.length - 40);
    const p = parseGuestSerial(cut);
    expect(p.heartbeats).toHaveLength(126);
    expect(p.fragments).toEqual([expect.objectContaining({ tail: true })]);
  });

  it('reads from a file; a missing file is empty only when allowed', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-guest-'));
    try {
      const f = path.join(dir, 'serial.log');
      fs.writeFileSync(f, fixture('precopy-src.txt'));
      expect((await readGuestSerial(f)).heartbeats).toHaveLength(31);
      await expect(readGuestSerial(path.join(dir, 'nope.log'))).rejects.toThrow(/ENOENT/);
      expect((await readGuestSerial(path.join(dir, 'nope.log'), { missingOk: true })).heartbeats).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('mergeGuestSerial', () => {
  it('joins the source and destination logs of a migration into one sequence', () => {
    const src = parseGuestSerial(fixture('precopy-src.txt'));
    const dst = parseGuestSerial(fixture('precopy-dst.txt'));
    const all = mergeGuestSerial([dst, src]);
    expect(all.heartbeats.map((h) => h.seq)).toEqual([...Array(55).keys()]);
    expect(all.boots).toHaveLength(1);
  });

  it('de-duplicates heartbeats seen in both logs (append mode, migrating back)', () => {
    const src = parseGuestSerial(fixture('precopy-src.txt'));
    const all = mergeGuestSerial([src, src]);
    expect(all.heartbeats).toHaveLength(src.heartbeats.length);
  });

  it('repairs a line torn by the switchover (prefix in one log, rest in the other)', () => {
    const srcText = fixture('postcopy-src.txt');
    const dstText = fixture('postcopy-dst.txt');
    const firstDst = dstText.indexOf('\n') + 1;
    const torn = dstText.slice(0, firstDst); // move half of the destination's first line to the source
    const half = 50;
    const src = parseGuestSerial(srcText + torn.slice(0, half));
    const dst = parseGuestSerial(torn.slice(half) + dstText.slice(firstDst));
    expect(src.fragments).toHaveLength(1);
    expect(dst.fragments).toHaveLength(1);
    const all = mergeGuestSerial([src, dst]);
    expect(all.fragments).toHaveLength(0);
    expect(all.heartbeats.map((h) => h.seq)).toEqual([...Array(57).keys()]);
  });
});

describe('stallSince (host-side reset)', () => {
  // One guest (TCG, rate=20 wss=64), paused with QMP stop/cont, then frozen with SIGSTOP.
  // Actual pause: [stop reply -> cont sent, stop sent -> cont reply] from the QMP client.
  const hbs = parseGuestSerial(fixture('pauses-tcg.txt')).heartbeats;
  const events = [
    { mark: 20, next: 36, pauseMs: [1500.8, 1502.3] },
    { mark: 36, next: 52, pauseMs: [300.5, 304.3] },
    { mark: 52, next: 68, pauseMs: [49.4, 50.9] },
    { mark: 68, next: 85, pauseMs: [2501.8, 2599.5] },
    { mark: 85, next: 103, pauseMs: [1001.4, 1006.0] },
  ];

  for (const ev of events) {
    it(`measures a ${ev.pauseMs[0]} ms stop of the VM`, () => {
      const mark = markAt(hbs, ev.mark);
      const r = stallSince(
        hbs.filter((h) => h.seq < ev.next),
        mark,
      );
      expect(r.settled).toBe(true);
      expect(r.rebooted).toBe(false);
      // Stopped time within the bounds of the actual pause, +-3 ms (edge jitter on a loaded host).
      expect(r.stoppedUs / 1000).toBeGreaterThan(ev.pauseMs[0]! - 3);
      expect(r.stoppedUs / 1000).toBeLessThan(ev.pauseMs[1]! + 3);
      // Felt = stopped time plus the loop gaps in the same window: never less than the pause.
      expect(r.feltUs).toBeGreaterThanOrEqual(r.stoppedUs - 3000);
      expect(r.feltUs).toBe(Math.max(r.maxGapUs, r.windowUs));
    });
  }

  it('sees a vCPU freeze with the clock running (SIGSTOP 804 ms) as a gap, not as stopped time', () => {
    const r = stallSince(hbs, markAt(hbs, 103));
    expect(r.maxGapUs / 1000).toBeCloseTo(804, -1);
    expect(Math.abs(r.stoppedUs)).toBeLessThan(1000);
    expect(r.feltUs / 1000).toBeGreaterThan(800);
    expect(r.feltUs / 1000).toBeLessThan(815);
    expect(r.settled).toBe(true);
  });

  it('forgets what happened before the mark', () => {
    // Mark after the 2.5 s pause has been fully reported: only the 1 s pause and SIGSTOP follow.
    const r = stallSince(hbs, markAt(hbs, 85));
    expect(r.feltUs / 1000).toBeLessThan(1100);
    expect(r.feltUs / 1000).toBeGreaterThan(1000);
  });

  it('is not settled right after an event, and has nothing to say with no lines after the mark', () => {
    // The 1.5 s pause is first reported at seq 25; its windows complete by seq 29.
    const early = stallSince(
      hbs.filter((h) => h.seq <= 26),
      markAt(hbs, 20),
    );
    expect(early.settled).toBe(false);
    const none = stallSince(hbs, markNow(hbs)!);
    expect(none).toMatchObject({ lines: 0, feltUs: 0, stoppedUs: 0, settled: false });
  });

  it('reports a reboot after the mark', () => {
    const other = parseGuestSerial(fixture('precopy-src.txt')).heartbeats;
    const r = stallSince([...hbs, ...other], markAt(hbs, 120));
    expect(r.rebooted).toBe(true);
    expect(r.lines).toBe(6);
  });

  it('measures a pre-copy migration across the two hosts (QEMU reported downtime 42 ms)', () => {
    const src = parseGuestSerial(fixture('precopy-src.txt'));
    const dst = parseGuestSerial(fixture('precopy-dst.txt'));
    const mark = markNow(src.heartbeats.filter((h) => h.seq <= 25))!;
    const r = stallSince(mergeGuestSerial([src, dst]), mark);
    expect(r.settled).toBe(true);
    expect(r.stoppedUs / 1000).toBeGreaterThan(38);
    expect(r.stoppedUs / 1000).toBeLessThan(46);
    expect(r.feltUs / 1000).toBeCloseTo(54.5, 0);
  });

  it('measures a post-copy migration: short stop, long page-fault stall (QEMU downtime 7 ms)', () => {
    const src = parseGuestSerial(fixture('postcopy-src.txt'));
    const dst = parseGuestSerial(fixture('postcopy-dst.txt'));
    const mark = markNow(src.heartbeats.filter((h) => h.seq <= 25))!;
    const r = stallSince(mergeGuestSerial([src, dst]), mark);
    expect(r.stoppedUs / 1000).toBeGreaterThan(7);
    expect(r.stoppedUs / 1000).toBeLessThan(20);
    expect(r.maxGapUs / 1000).toBeCloseTo(87.1, 0);
    expect(r.feltUs).toBeGreaterThan(r.maxGapUs);
  });
});

describe('disk fields (disk=N)', () => {
  it('reads the ring and disk_ack from a real guest started with disk=50, and nothing of them without it', () => {
    const parsed = parseGuestSerial(fixture('disk-boot-d00727cd.txt'));
    expect(parsed.boots).toEqual([
      expect.objectContaining({ boot: 'd00727cd', disk: 50, diskSectors: 8192, diskSlots: 1024, diskPerDrq: 8 }),
    ]);
    expect(parsed.heartbeats).toEqual([expect.objectContaining({ boot: 'd00727cd', seq: 0, diskAck: 0 })]);
    expect(parsed.diskErrors).toEqual([]);

    const plain = parseGuestSerial(fixture('precopy-src.txt'));
    expect(plain.heartbeats.length).toBeGreaterThan(0);
    for (const h of plain.heartbeats) expect(Object.keys(h)).not.toContain('diskAck');
    for (const b of plain.boots) expect(Object.keys(b)).not.toContain('diskSlots');
  });

  it('reads a ferry-disk-error line, and drops one whose checksum does not match', () => {
    const body = 'ferry-disk-error boot=d00727cd op=timeout seq=17 status=000000d0 error=00000000';
    const good = `${body} ck=${fnv1a32(body).toString(16).padStart(8, '0')}`;
    expect(parseGuestLine(good, 9)).toEqual({ kind: 'disk-error', boot: 'd00727cd', op: 'timeout', seq: 17, text: body, byteOffset: 9 });
    expect(parseGuestLine(good.replace('seq=17', 'seq=18'))).toBeUndefined();
  });
});
