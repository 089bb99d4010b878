/**
 * The verdict on a guest's writes from rounds of QEMU's page sampling, weighed as binomial draws:
 * a working set (the same fraction dirty in 1 s and in 2 s) or writes spreading (more in 2 s),
 * settled or not. Readings are the lab's 128 MiB guests' (64 sampled pages: 2 MiB each).
 */
import { describe, expect, it } from 'vitest';
import { DECISIVE, samplePages, weighSampling, type SamplingRound } from '../../../model/forecast/dirty-sampling';
import { HOT_REWRITE_SECONDS } from '../../../model/forecast/dirty-estimate';

const MiB = 1024 * 1024;
const RAM = 128 * MiB;
/** A round from the sampled pages found dirty in the 1 s and the 2 s window (of 64). */
const round = (k1: number | null, k2: number | null): SamplingRound => ({
  shorter: { seconds: 1, bps: k1 === null ? null : (k1 * 2 * MiB) / 1 },
  longer: { seconds: 2, bps: k2 === null ? null : (k2 * 2 * MiB) / 2 },
});

describe('weighing page samples: working set or spreading writes', () => {
  it("QEMU samples 512 pages per GiB: 64 of a 128 MiB guest, at least one", () => {
    expect(samplePages(RAM)).toBe(64);
    expect(samplePages(4096 * MiB)).toBe(2048);
    expect(samplePages(1 * MiB)).toBe(1);
  });

  it('the same pages in both windows, round after round: a working set, settled, taken as hot', () => {
    const v = weighSampling([round(8, 8), round(9, 7)], RAM);
    expect(v).toMatchObject({ settled: true, workingSetBytes: 16 * MiB, dirtyBps: (16 * MiB) / HOT_REWRITE_SECONDS });
    expect(v.leadToSpreading!).toBeLessThanOrEqual(-DECISIVE);
    expect(v.why).toMatch(/^2 sampling rounds saw the same 16 MiB dirty in 1 s and in 2 s: a working set/);
  });

  it('twice the pages in twice the time: writes spreading, settled, at the longer windows\' rate', () => {
    const v = weighSampling([round(7, 14), round(8, 15)], RAM);
    expect(v).toMatchObject({ settled: true, workingSetBytes: null, dirtyBps: ((14 + 15) / 2) * MiB });
    expect(v.leadToSpreading!).toBeGreaterThanOrEqual(DECISIVE);
  });

  it("one round of 64 pages that cannot tell (the bench's hot16 misread: 6 then 12 pages) is not settled; more rounds turn it, then settle it", () => {
    const one = weighSampling([round(6, 12)], RAM);
    expect(one).toMatchObject({ settled: false, workingSetBytes: null });
    // The rule before read 6 -> 12 pages as spreading at 12 MiB/s; the next rounds show a working set,
    // likelier though not yet settled after three (the activity's limit: it takes the likelier), settled after four.
    const three = weighSampling([round(6, 12), round(8, 7), round(9, 8)], RAM);
    expect(three).toMatchObject({ settled: false, workingSetBytes: expect.any(Number) });
    expect(three.leadToSpreading!).toBeLessThan(0);
    expect(weighSampling([round(6, 12), round(8, 7), round(9, 8), round(8, 8)], RAM).settled).toBe(true);
    expect(three.workingSetBytes! / MiB).toBeGreaterThan(14);
    expect(three.workingSetBytes! / MiB).toBeLessThan(22);
  });

  it('half of RAM dirty within a second: a working set (both readings fit; the hot one is the safe one)', () => {
    expect(weighSampling([round(63, 64)], RAM)).toMatchObject({ settled: true, workingSetBytes: expect.any(Number) });
    expect(weighSampling([round(63, 64)], RAM).dirtyBps! / MiB).toBeGreaterThan(1000);
  });

  it('quiet, one window missing, nothing measured: settled at once, as the two-window rule read them', () => {
    expect(weighSampling([round(1, 1)], RAM)).toMatchObject({ settled: true, why: 'quiet', workingSetBytes: null, dirtyBps: 1 * MiB });
    expect(weighSampling([round(null, 12)], RAM)).toMatchObject({ settled: true, dirtyBps: 12 * MiB, workingSetBytes: null });
    expect(weighSampling([round(null, null)], RAM)).toMatchObject({ settled: true, dirtyBps: null });
  });

  it('over many simulated guests, more rounds tell a 16 MiB working set from 14 MiB/s spreading more often than one', () => {
    // Seeded draws (mulberry32), so the test is the same every run.
    let seed = 12345;
    const rand = () => { seed = (seed + 0x6d2b79f5) | 0; let t = Math.imul(seed ^ (seed >>> 15), 1 | seed); t ^= t + Math.imul(t ^ (t >>> 7), 61 | t); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
    const draw = (p: number) => { let k = 0; for (let i = 0; i < 64; i += 1) if (rand() < p) k += 1; return k; };
    const right = (p1: number, p2: number, hot: boolean, maxRounds: number) => {
      let ok = 0;
      for (let t = 0; t < 400; t += 1) {
        const rounds: SamplingRound[] = [];
        let v;
        do { rounds.push(round(draw(p1), draw(p2))); v = weighSampling(rounds, RAM); } while (!v.settled && rounds.length < maxRounds);
        if ((v.workingSetBytes !== null) === hot) ok += 1;
      }
      return ok / 400;
    };
    const hotOne = right(0.125, 0.125, true, 1);
    const hotThree = right(0.125, 0.125, true, 3);
    const spreadOne = right(0.104, 0.197, false, 1);
    const spreadThree = right(0.104, 0.197, false, 3);
    expect(hotThree).toBeGreaterThan(hotOne);
    expect(spreadThree).toBeGreaterThan(spreadOne);
    expect(Math.min(hotThree, spreadThree)).toBeGreaterThan(0.82);
  });
});
