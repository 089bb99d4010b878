/**
 * The lab guest's disk under real QEMU (plain processes, not the lab): the guest writes its ring,
 * is live-migrated between QEMU processes on loopback that share one raw image, once in
 * pre-copy and once in post-copy, and the checker finds every acknowledged write on the image,
 * one boot, no heartbeat lost. Then one
 * acknowledged block of a copy of the image is damaged, and the guest is booted afresh on the
 * image: the checker names both. And a write error injected by QEMU's blkdebug comes out as a
 * ferry-disk-error line, the guest going on.
 * Needs qemu-system-x86_64 (apt-get install qemu-system-x86); about 17 s under TCG.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureGuestBuilt } from '../../lab/guest/build';
import { moveContinuity } from '../../lab/guest/continuity';
import { checkGuestDisk } from '../../lab/guest/disk-check';
import { DISK_BLOCK_BYTES } from '../../lab/guest/disk-format';
import { checkGuestDiskFiles, readRawDiskImage } from '../../lab/guest/disk-read';
import { readGuestSerial, type ParsedSerial } from '../../lab/guest/serial';
import { freeLoopbackPort, requireQemu, startPlainQemu, stopPlainQemu, type PlainQemu } from './plain-qemu';

const SLOTS = 64; // a 256 KiB image: at 50 blocks/s the ring wraps every ~1.3 s
const RATE = 50;

/** Polls the serial log until `done` accepts it. */
async function waitForSerial(file: string, what: string, done: (s: ParsedSerial) => boolean, timeoutMs = 20_000): Promise<ParsedSerial> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await readGuestSerial(file, { missingOk: true });
    if (done(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} in ${file}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
const lastAck = (s: ParsedSerial): number => s.heartbeats.at(-1)?.diskAck ?? -1;

/**
 * Live-migrates `from` into `to` (started with -incoming on `port`); with postcopy, switches to
 * post-copy right away. Returns the migration states the source went through, in order, from its
 * MIGRATION events: a small guest can pass through post-copy faster than any poll would see.
 */
async function migrate(from: PlainQemu, to: PlainQemu, port: number, postcopy: boolean): Promise<string[]> {
  const capabilities = [{ capability: 'events', state: true }];
  if (postcopy) {
    for (const q of [from, to]) await q.qmp.execute('migrate-set-capabilities', { capabilities: [{ capability: 'postcopy-ram', state: true }] });
  }
  await from.qmp.execute('migrate-set-capabilities', { capabilities });
  const firstEvent = from.qmp.events.length;
  await from.qmp.execute('migrate', { uri: `tcp:127.0.0.1:${port}` });
  if (postcopy) await from.qmp.execute('migrate-start-postcopy'); // taken at the end of the first pass
  const deadline = Date.now() + 30_000;
  for (;;) {
    const st = (await from.qmp.execute('query-migrate')) as { status?: string; 'error-desc'?: string };
    if (st.status === 'completed') {
      return from.qmp.events.slice(firstEvent).filter((e) => e.event === 'MIGRATION').map((e) => String(e.data?.status));
    }
    if (st.status === 'failed' || st.status === 'cancelled') throw new Error(`migration ${st.status}: ${st['error-desc'] ?? ''}\n${to.stderr()}`);
    if (Date.now() > deadline) throw new Error(`migration still ${st.status} after 30 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the lab guest disk under plain QEMU', () => {
  let dir: string;
  let src: PlainQemu | undefined;
  let dst: PlainQemu | undefined;
  let back: PlainQemu | undefined;
  let again: PlainQemu | undefined;
  let faulty: PlainQemu | undefined;

  beforeAll(() => {
    requireQemu();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-guest-disk-'));
  });

  afterAll(async () => {
    await stopPlainQemu(src);
    await stopPlainQemu(dst);
    await stopPlainQemu(back);
    await stopPlainQemu(again);
    await stopPlainQemu(faulty);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged write across a pre-copy and a post-copy migration between QEMUs sharing the image, and names a damaged block and a reboot', async () => {
    const kernel = await ensureGuestBuilt();
    const image = path.join(dir, 'disk.raw');
    fs.writeFileSync(image, Buffer.alloc(SLOTS * DISK_BLOCK_BYTES));
    const srcLog = path.join(dir, 'src.log');
    const dstLog = path.join(dir, 'dst.log');
    const append = `rate=5 wss=8 disk=${RATE}`;

    src = await startPlainQemu({ kernel, append, image, serialLog: srcLog, qmpSocket: path.join(dir, 'src.qmp') });
    const before = await waitForSerial(srcLog, 'the ring to wrap on the source', (s) => lastAck(s) > SLOTS + 10);
    expect(before.boots[0]).toMatchObject({ disk: RATE, diskSectors: SLOTS * 8, diskSlots: SLOTS });

    const port = await freeLoopbackPort();
    dst = await startPlainQemu({ kernel, append, image, serialLog: dstLog, qmpSocket: path.join(dir, 'dst.qmp'), incomingPort: port });
    const precopyStates = await migrate(src, dst, port, false);
    expect(precopyStates).toContain('active');
    expect(precopyStates).not.toContain('postcopy-active');
    const srcAfter = await readGuestSerial(srcLog);
    const onSource = lastAck(srcAfter);
    // The guest goes on writing on the destination, through the same image, past another wrap.
    const dstBefore = await waitForSerial(dstLog, 'writes on the destination', (s) => lastAck(s) > onSource + SLOTS + 10);

    // And back to a third QEMU, in post-copy: the guest writes while its pages are still arriving.
    const backLog = path.join(dir, 'back.log');
    const backPort = await freeLoopbackPort();
    back = await startPlainQemu({ kernel, append, image, serialLog: backLog, qmpSocket: path.join(dir, 'back.qmp'), incomingPort: backPort });
    expect(await migrate(dst, back, backPort, true)).toContain('postcopy-active');
    const onDestination = lastAck(await readGuestSerial(dstLog));
    expect(onDestination).toBeGreaterThanOrEqual(lastAck(dstBefore));
    await waitForSerial(backLog, 'writes after the post-copy move', (s) => lastAck(s) > onDestination + 20);
    await back.qmp.execute('stop'); // drains the disk: the image holds still for the checker
    const status = (await back.qmp.execute('query-status')) as { status: string };
    expect(status.status).toBe('paused');

    const verdict = await checkGuestDiskFiles({ imagePath: image, serialLogPaths: [srcLog, dstLog, backLog] });
    expect(verdict.violations).toEqual([]);
    expect(verdict.clean).toBe(true);
    expect(verdict.boot).toBe(before.boots[0]!.boot);
    expect(verdict.lastWritten).toBeGreaterThan(onDestination + 20);
    expect(verdict.checked).toEqual({ from: verdict.lastWritten - SLOTS + 1, to: verdict.lastWritten });
    const dstSerial = await readGuestSerial(dstLog);
    const backSerial = await readGuestSerial(backLog);
    // The destinations continued the guest, they did not boot one, and went on from where it was.
    expect([...dstSerial.boots, ...backSerial.boots]).toEqual([]);
    expect(moveContinuity(srcAfter, dstSerial).regressedBy).toBe(0);
    expect(moveContinuity(dstSerial, backSerial).regressedBy).toBe(0);

    // Damage one acknowledged block (one byte in its sixth sector) in a copy: the checker names it.
    const damaged = Buffer.from(await readRawDiskImage(image));
    const seq = verdict.lastWritten - 5;
    const slot = seq % SLOTS;
    damaged[slot * DISK_BLOCK_BYTES + 5 * 512 + 100]! ^= 0xff;
    const logs = [srcAfter, dstSerial, backSerial];
    const bad = checkGuestDisk({ image: damaged, logs });
    expect(bad.clean).toBe(false);
    expect(bad.violations).toEqual([{ kind: 'corrupt-block', seq, slot, sectorsOfThisWrite: [0, 1, 2, 3, 4, 6, 7] }]);

    // A real reboot: the guest booted afresh on the same image. The checker names it.
    await stopPlainQemu(back);
    const againLog = path.join(dir, 'again.log');
    again = await startPlainQemu({ kernel, append, image, serialLog: againLog, qmpSocket: path.join(dir, 'again.qmp') });
    await waitForSerial(againLog, 'writes after the reboot', (s) => lastAck(s) > 5);
    await again.qmp.execute('stop');
    const afterReboot = await checkGuestDiskFiles({ imagePath: image, serialLogPaths: [srcLog, dstLog, backLog, againLog] });
    expect(afterReboot.clean).toBe(false);
    expect(afterReboot.boot).not.toBe(verdict.boot);
    expect(afterReboot.violations[0]).toEqual({ kind: 'rebooted', boots: [verdict.boot, afterReboot.boot] });
  }, 90_000);

  it('reports an ATA write error as a ferry-disk-error line and goes on writing (the checker names the error)', async () => {
    const kernel = await ensureGuestBuilt();
    const image = path.join(dir, 'faulty.raw');
    fs.writeFileSync(image, Buffer.alloc(SLOTS * DISK_BLOCK_BYTES));
    // QEMU's blkdebug driver fails the first write with EIO; werror=report hands the error to the guest.
    const conf = path.join(dir, 'blkdebug.conf');
    fs.writeFileSync(conf, '[inject-error]\nevent = "pwritev"\nerrno = "5"\nonce = "on"\n');
    const log = path.join(dir, 'faulty.log');
    faulty = await startPlainQemu({
      kernel, append: `rate=0 disk=${RATE}`, image, serialLog: log, qmpSocket: path.join(dir, 'faulty.qmp'),
      drive: `driver=blkdebug,config=${conf},image.filename=${image},if=ide,index=0,media=disk,cache=none,werror=report`,
    });
    const s = await waitForSerial(log, 'writes after the error', (x) => lastAck(x) > 10);
    await faulty.qmp.execute('stop');
    expect(s.diskErrors).toEqual([expect.objectContaining({ op: 'write', seq: 1 })]);
    expect(s.heartbeats.at(-1)?.diskErr).toBe(1);
    const verdict = await checkGuestDiskFiles({ imagePath: image, serialLogPaths: [log] });
    expect(verdict.violations.map((v) => v.kind)).toEqual(['disk-error']);
  }, 60_000);
});
