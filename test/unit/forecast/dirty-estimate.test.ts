import { describe, expect, it } from 'vitest';
import { HOT_REWRITE_SECONDS, estimateDirtying } from '../../../model/forecast/dirty-estimate';

const MiB = 1024 * 1024;
const r = (seconds: number, mibps: number | null) => ({ seconds, bps: mibps === null ? null : mibps * MiB });

describe('the dirty rate and working set from two sampling windows', () => {
  it('the same 64 MiB seen in 1 s and in 2 s: a working set of 64 MiB, taken as rewritten every 0.1 s (how fast, the sampling cannot tell)', () => {
    // What the lab guest rewriting 64 MiB at full speed reads as: 64 MiB/s over 1 s, 32 MiB/s over 2 s.
    expect(HOT_REWRITE_SECONDS).toBe(0.1);
    expect(estimateDirtying(r(1, 64), r(2, 32))).toMatchObject({ dirtyBps: 640 * MiB, workingSetBytes: 64 * MiB });
    // Sampling noise of a few pages either way does not change the verdict.
    expect(estimateDirtying(r(1, 60), r(2, 36)).workingSetBytes).toBe(72 * MiB);
  });

  it('twice the memory in twice the time: writes spread, the longer window stands, the working set unknown', () => {
    expect(estimateDirtying(r(1, 30), r(2, 30))).toMatchObject({ dirtyBps: 30 * MiB, workingSetBytes: null });
    expect(estimateDirtying(r(1, 40), r(2, 32)).workingSetBytes).toBeNull(); // 64 MiB after 40: more than 1.3x
  });

  it('a quiet guest is its rate, a window QEMU could not measure leaves the other, none leaves nothing', () => {
    expect(estimateDirtying(r(1, 2), r(2, 1))).toMatchObject({ dirtyBps: 1 * MiB, workingSetBytes: null });
    expect(estimateDirtying(r(1, null), r(2, 12))).toMatchObject({ dirtyBps: 12 * MiB, workingSetBytes: null });
    expect(estimateDirtying(r(1, 12), r(2, null))).toMatchObject({ dirtyBps: 12 * MiB, workingSetBytes: null });
    expect(estimateDirtying(r(1, null), r(2, null))).toMatchObject({ dirtyBps: null, workingSetBytes: null });
  });
});
