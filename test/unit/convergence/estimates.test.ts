import { describe, expect, it } from 'vitest';
import { BANDWIDTH_EWMA_ALPHA, ewmaBandwidth, impliedDowntimeMs } from '../../../workflows/convergence';

describe('estimates', () => {
  it('smooths bandwidth with alpha 0.4, seeded by the first usable sample', () => {
    expect(BANDWIDTH_EWMA_ALPHA).toBe(0.4);
    let e = ewmaBandwidth(null, 0);
    expect(e).toBeNull();
    e = ewmaBandwidth(e, 100);
    expect(e).toBe(100);
    e = ewmaBandwidth(e, 200);
    expect(e).toBeCloseTo(140);
    expect(ewmaBandwidth(e, null)).toBe(e);
  });

  it('implies the downtime of a switch-over now from remaining bytes and bandwidth', () => {
    expect(impliedDowntimeMs(24 * 1048576, 24 * 1048576)).toBe(1000);
    expect(impliedDowntimeMs(0, 1e6)).toBe(0);
    expect(impliedDowntimeMs(1e6, 0)).toBeNull();
    expect(impliedDowntimeMs(1e6, null)).toBeNull();
  });
});
