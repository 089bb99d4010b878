import { describe, expect, it } from 'vitest';
import {
  kubevirt, kubevirtAcceptableS, novaDataGb, novaDefault, novaDowntimeSteps, novaForceComplete, ovirt,
  postcopyAfterFirstPass, postcopyAtOnce, type SteerAction, type SteerInput, type Strategy,
} from '../../../bench/policy/strategies';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** Drives a strategy over a scripted sequence of observations; returns each action with its time. */
function drive<S>(s: Strategy<S>, memoryBytes: number, inputs: SteerInput[]): Array<[number, SteerAction]> {
  let state = s.init({ memoryBytes });
  const out: Array<[number, SteerAction]> = [];
  for (const i of inputs) {
    const r = s.step(state, i);
    state = r.state;
    for (const a of r.actions) out.push([i.elapsedMs, a]);
  }
  return out;
}

/** One observation every `everyMs` up to `untilMs`, iteration from `iterAt(ms)`. */
function timeline(untilMs: number, everyMs: number, iterAt: (ms: number) => number, postcopyFromMs = Infinity): SteerInput[] {
  const out: SteerInput[] = [];
  for (let t = everyMs; t <= untilMs; t += everyMs) {
    out.push({ elapsedMs: t, iteration: iterAt(t), remainingBytes: 50 * MiB, bandwidthBps: 50 * MiB, postcopy: t >= postcopyFromMs });
  }
  return out;
}

describe('Nova (anchors b1)', () => {
  it('reproduces the worked example of a 4 GiB guest: 50 -> 500 ms every 300 s', () => {
    expect(novaDowntimeSteps(4)).toEqual([
      [0, 50], [300, 95], [600, 140], [900, 185], [1200, 230], [1500, 275], [1800, 320], [2100, 365], [2400, 410], [2700, 455], [3000, 500],
    ]);
  });

  it('counts a small guest as 2 GiB: first raise after 150 s, abort after 1600 s', () => {
    expect(novaDataGb(128 * MiB)).toBe(2);
    const acts = drive(novaDefault, 128 * MiB, timeline(1_700_000, 500, () => 5));
    const downtimes = acts.filter(([, a]) => a.kind === 'set-max-downtime');
    expect(downtimes[0]).toEqual([500, { kind: 'set-max-downtime', ms: 50 }]);
    expect(downtimes[1]).toEqual([150_500, { kind: 'set-max-downtime', ms: 95 }]);
    expect(downtimes).toHaveLength(11); // each value set once, only when it changes
    const aborts = acts.filter(([, a]) => a.kind === 'abort');
    expect(aborts).toHaveLength(1);
    expect(aborts[0]![0]).toBe(1_600_500);
  });

  it('with force_complete switches to post-copy at the timeout, once, and never in post-copy', () => {
    const acts = drive(novaForceComplete, 3 * GiB, timeline(2_500_000, 500, () => 5));
    const switches = acts.filter(([, a]) => a.kind === 'start-postcopy');
    expect(switches).toEqual([[2_400_500, { kind: 'start-postcopy' }]]);
    expect(acts.some(([, a]) => a.kind === 'abort')).toBe(false);
    const already = drive(novaForceComplete, 128 * MiB, timeline(1_700_000, 500, () => 5, 1_000));
    expect(already.some(([, a]) => a.kind === 'start-postcopy')).toBe(false);
  });
});

describe('KubeVirt (anchors b2, b4)', () => {
  it('grants 150 s per started 10^9 bytes', () => {
    expect(kubevirtAcceptableS(128 * MiB)).toBe(150);
    expect(kubevirtAcceptableS(2 * GiB)).toBe(450);
    expect(kubevirtAcceptableS(16 * GiB)).toBe(2700);
  });

  it('ramps 150 -> 1050 ms in 128 ms steps 10 s apart from iteration 3, then switches to post-copy at 150 s', () => {
    const acts = drive(kubevirt, 128 * MiB, timeline(160_000, 400, (t) => (t < 20_000 ? 2 : 3 + Math.floor(t / 5_000))));
    const downtimes = acts.filter(([, a]) => a.kind === 'set-max-downtime').map(([t, a]) => [t, (a as { ms: number }).ms]);
    expect(downtimes[0]).toEqual([400, 150]);
    expect(downtimes.slice(1).map(([, ms]) => ms)).toEqual([278, 406, 534, 662, 790, 918, 1046, 1050]);
    expect(downtimes[1]![0]).toBeGreaterThanOrEqual(20_000);
    for (let k = 2; k < downtimes.length; k++) expect(downtimes[k]![0]! - downtimes[k - 1]![0]!).toBeGreaterThanOrEqual(10_000);
    const switches = acts.filter(([, a]) => a.kind === 'start-postcopy');
    expect(switches).toEqual([[150_400, { kind: 'start-postcopy' }]]);
  });

  it('aborts when remaining bytes have not dropped for 150 s (its legacy progress timeout)', () => {
    const big = 8 * GiB; // acceptable 1350 s: the progress timeout comes first
    const flat = timeline(200_000, 400, () => 4).map((i) => ({ ...i, remainingBytes: 100 * MiB }));
    const acts = drive(kubevirt, big, flat);
    const aborts = acts.filter(([, a]) => a.kind === 'abort');
    expect(aborts).toHaveLength(1);
    expect(aborts[0]![0]).toBe(150_800);
  });
});

describe('oVirt "Minimal downtime" (anchors b6)', () => {
  it('sets 100 ms at once, then one schedule item per new iteration seen at its 10 s monitor, ending in abort', () => {
    // A new iteration every 3 s: vdsm still acts at most once per 10 s check.
    const acts = drive(ovirt, 128 * MiB, timeline(120_000, 1_000, (t) => 1 + Math.floor(t / 3_000)));
    expect(acts[0]).toEqual([1_000, { kind: 'set-max-downtime', ms: 100 }]);
    const rest = acts.slice(1).map(([t, a]) => [t, a.kind === 'set-max-downtime' ? a.ms : a.kind]);
    expect(rest).toEqual([[10_000, 150], [20_000, 200], [30_000, 300], [40_000, 400], [50_000, 500], [60_000, 'abort']]);
  });

  it('does nothing while the iteration does not change, nor in post-copy', () => {
    const stuck = drive(ovirt, 128 * MiB, timeline(60_000, 1_000, () => 1));
    expect(stuck.map(([, a]) => a)).toEqual([{ kind: 'set-max-downtime', ms: 100 }]);
    const pc = drive(ovirt, 128 * MiB, timeline(60_000, 1_000, (t) => 1 + Math.floor(t / 3_000), 5_000));
    expect(pc).toHaveLength(1);
  });
});

describe('post-copy switches', () => {
  it('at once: from the first look with a job; after the pass: from iteration 2; asked again until the source switched', () => {
    const inputs = timeline(5_000, 500, (t) => (t < 1_000 ? 0 : t < 3_000 ? 1 : 2), 4_000).map((i) => (i.elapsedMs < 1_000 ? { ...i, iteration: null } : i));
    const times = (s: typeof postcopyAtOnce) => drive(s, 128 * MiB, inputs).map(([t, a]) => { expect(a).toEqual({ kind: 'start-postcopy' }); return t; });
    expect(times(postcopyAtOnce)).toEqual([1_000, 1_500, 2_000, 2_500, 3_000, 3_500]);
    expect(times(postcopyAfterFirstPass)).toEqual([3_000, 3_500]);
  });
});
