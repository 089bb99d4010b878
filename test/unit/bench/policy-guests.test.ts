import { describe, expect, it } from 'vitest';
import { guestById, scaledTo } from '../../../bench/policy/guests';

describe('bench/policy guests in another size', () => {
  it('scales the working set and the drift with the RAM, keeps the rate, names the size', () => {
    expect(scaledTo(guestById('moving'), 512)).toMatchObject({ id: 'moving-512', memoryMiB: 512, rateMiBps: 64, wssMiB: 128, driftMiBps: 64 });
    expect(scaledTo(guestById('above'), 512)).toMatchObject({ id: 'above-512', memoryMiB: 512, rateMiBps: 'max' });
    expect(scaledTo(guestById('above'), 512).wssMiB).toBeUndefined();
    expect(scaledTo(guestById('below'), 128)).toBe(guestById('below'));
  });
});
