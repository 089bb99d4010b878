import { describe, expect, it } from 'vitest';
import { QEMU_OWN_RESIDENT_BYTES, touchedFromResident } from '../../../model/forecast/touched-memory';

const MiB = 1024 * 1024;

describe('the RAM that holds data, from QEMU\'s resident set', () => {
  it("the lab's guests: idle 39 MiB resident -> 7 MiB of data; rewriting 32 MiB, 71 MiB resident -> 39 MiB", () => {
    expect(QEMU_OWN_RESIDENT_BYTES).toBe(32 * MiB);
    expect(touchedFromResident(39 * MiB, 128 * MiB)).toBe(7 * MiB);
    expect(touchedFromResident(71 * MiB, 128 * MiB, 30 * MiB)).toBe(39 * MiB);
  });

  it('never below the working set, never above the RAM; unknown stays unknown', () => {
    expect(touchedFromResident(40 * MiB, 128 * MiB, 64 * MiB)).toBe(64 * MiB);
    expect(touchedFromResident(20 * MiB, 128 * MiB)).toBe(0);
    expect(touchedFromResident(300 * MiB, 128 * MiB)).toBe(128 * MiB);
    expect(touchedFromResident(null, 128 * MiB)).toBeNull();
    expect(touchedFromResident(undefined, 128 * MiB, 64 * MiB)).toBeNull();
  });
});
