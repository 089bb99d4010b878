import { describe, expect, it } from 'vitest';
import { moveContinuity } from '../../../lab/guest/continuity';
import type { Heartbeat, ParsedSerial } from '../../../lab/guest/serial';

const hb = (seq: number, tMs: number, byteOffset: number, boot = 'e5678aa3'): Heartbeat => ({
  kind: 'hb', boot, seq, tMs, gapUs: 5000, edge: 1, stopUs: 0, winUs: 0, feltUs: 0, stoptotUs: 0, dirtiedMiB: 0, byteOffset,
});
const log = (...heartbeats: Heartbeat[]): ParsedSerial => ({ boots: [], heartbeats, faults: [], diskErrors: [], fragments: [] });

describe('moveContinuity', () => {
  it('a guest that goes on: the destination starts one past the source', () => {
    expect(moveContinuity(log(hb(18, 4500, 0), hb(19, 4750, 200)), log(hb(20, 5000, 0), hb(21, 5250, 200))))
      .toEqual({ sourceLast: 19, destinationFirst: 20, regressedBy: 0, gapMs: 250 });
  });

  it('a destination that prints a counter the source had printed went back in time (seen: 104 -> 26 under TCG)', () => {
    const c = moveContinuity(log(hb(103, 25750, 0), hb(104, 26000, 200)), log(hb(26, 26103, 0), hb(27, 26353, 200)));
    expect(c.regressedBy).toBe(79);
    expect(c.gapMs).toBe(103);
    expect(moveContinuity(log(hb(21, 5251, 0)), log(hb(21, 5473, 0))).regressedBy).toBe(1);
  });

  it('reads each log in file order, not by counter, and ignores another boot', () => {
    const src = log(hb(5, 1250, 0), hb(6, 1500, 100), hb(7, 1750, 200));
    const dst = log(hb(3, 1800, 0), hb(4, 2050, 100), hb(1, 100, 50, 'ffffffff'));
    expect(moveContinuity(src, dst).regressedBy).toBe(5);
    expect(moveContinuity(src, log()).destinationFirst).toBeNull();
  });
});
