import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CONVERGENCE_POLICY, initialDowntimeState, operatorSetsDowntime, rampCanRise, rampValueMs, startRamp, stepRamp,
  type DowntimeState,
} from '../../../workflows/convergence';

const cfg = DEFAULT_CONVERGENCE_POLICY.downtime;

/** Runs the ramp over iterations 1..n (step at each), collecting what it sends. */
function run(s: DowntimeState, from: number, to: number): { state: DowntimeState; sent: number[] } {
  const sent: number[] = [];
  for (let it = from; it <= to; it++) {
    const m = stepRamp(cfg, s, it);
    s = m.state;
    if (m.setMs !== null) sent.push(m.setMs);
  }
  return { state: s, sent };
}

describe('max-downtime ramp', () => {
  it('goes 100 -> 900 ms in 8 equal steps', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => rampValueMs(cfg, n))).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900, 900]);
  });

  it('starts at initialMs, then one step per iteration, sending only changes', () => {
    const start = startRamp(cfg, initialDowntimeState(cfg));
    expect(start.setMs).toBe(100);
    const { state, sent } = run(start.state, 2, 12);
    expect(sent).toEqual([200, 300, 400, 500, 600, 700, 800, 900]);
    expect(rampCanRise(cfg, state)).toBe(false);
    // A second step in the same iteration does nothing.
    const again = stepRamp(cfg, start.state, 2);
    expect(stepRamp(cfg, again.state, 2).setMs).toBeNull();
  });

  it('never lowers a max downtime the operator raised', () => {
    let s = startRamp(cfg, initialDowntimeState(cfg)).state;
    const op = operatorSetsDowntime(cfg, s, 450);
    expect(op.setMs).toBe(450);
    s = op.state;
    const { sent } = run(s, 2, 12);
    expect(sent).toEqual([500, 600, 700, 800, 900]);
    const high = operatorSetsDowntime(cfg, startRamp(cfg, initialDowntimeState(cfg)).state, 2000);
    expect(run(high.state, 2, 12).sent).toEqual([]);
    expect(rampCanRise(cfg, high.state)).toBe(false);
  });

  it('treats a lowered max downtime as the ramp ceiling', () => {
    let s = run(startRamp(cfg, initialDowntimeState(cfg)).state, 2, 4).state; // at 400
    const op = operatorSetsDowntime(cfg, s, 150);
    expect(op.setMs).toBe(150);
    s = op.state;
    expect(run(s, 5, 12).sent).toEqual([]);
    expect(rampCanRise(cfg, s)).toBe(false);
  });

  it('keeps an operator value set before the job started', () => {
    const op = operatorSetsDowntime(cfg, initialDowntimeState(cfg), 300);
    const start = startRamp(cfg, op.state);
    expect(start.setMs).toBeNull();
    expect(run(start.state, 2, 4).sent).toEqual([400]);
  });
});
