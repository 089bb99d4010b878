/**
 * PURE: the max-downtime ramp by iteration (oVirt's convergence schedule, KubeVirt's
 * downtimeTuning). Step n of the ramp is initialMs + n × (maxMs - initialMs) / steps; step 0 is
 * set once QEMU's migration has started, then one step per new iteration from
 * startAfterIteration on (or earlier when the stall detector asks for it), never more than one
 * step per iteration, and a value is sent to QEMU only when it raises what is set.
 *
 * The operator owns the knob when they touch it: a value they raised is never lowered by the
 * ramp (it only sends values above it), and a value they lowered below the ramp's schedule
 * becomes the ramp's ceiling (raising it again would undo their request).
 */
import { rampValueMs } from '../../model/convergence-policy';

export interface DowntimeRampConfig {
  initialMs: number;
  maxMs: number;
  steps: number;
  startAfterIteration: number;
}

export interface DowntimeState {
  /** The max downtime last set on the job by anyone through the controller; null before any. */
  currentMs: number | null;
  /** Ramp steps taken: null before the initial value, 0 once initialMs was due, … up to steps. */
  step: number | null;
  /** Iteration of the last ramp step (one step per iteration at most). */
  lastStepIteration: number | null;
  /** The ramp never sends more than this: maxMs, or lower once the operator lowered the downtime. */
  ceilingMs: number;
  /** What the operator set last, if anything. */
  operatorMs: number | null;
}

export function initialDowntimeState(cfg: DowntimeRampConfig): DowntimeState {
  return { currentMs: null, step: null, lastStepIteration: null, ceilingMs: cfg.maxMs, operatorMs: null };
}

/** The ramp's value at step n (clamped to maxMs), in whole ms: the model's schedule. */
export { rampValueMs };

/** The ramp's next value, or null when it cannot raise the max downtime any more. */
export function nextRampValueMs(cfg: DowntimeRampConfig, s: DowntimeState): number | null {
  const current = s.currentMs ?? 0;
  for (let n = (s.step ?? -1) + 1; n <= cfg.steps; n++) {
    const v = Math.min(rampValueMs(cfg, n), s.ceilingMs);
    if (v > current) return v;
  }
  return null;
}

export function rampCanRise(cfg: DowntimeRampConfig, s: DowntimeState): boolean {
  return nextRampValueMs(cfg, s) !== null;
}

export interface RampMove {
  state: DowntimeState;
  /** The value to send to QEMU, or null when this step changes nothing. */
  setMs: number | null;
  explanation: string;
}

/** Step 0: initialMs, at the first sample where the job has started. */
export function startRamp(cfg: DowntimeRampConfig, s: DowntimeState): RampMove {
  if (s.step !== null) return { state: s, setMs: null, explanation: 'ramp already started' };
  const value = Math.min(rampValueMs(cfg, 0), s.ceilingMs);
  const next: DowntimeState = { ...s, step: 0 };
  if (s.currentMs !== null && value <= s.currentMs) {
    return { state: next, setMs: null, explanation: `max downtime stays ${s.currentMs} ms (operator's)` };
  }
  return { state: { ...next, currentMs: value }, setMs: value, explanation: `max downtime ${value} ms to start` };
}

/**
 * One ramp step for this iteration (no-op when the ramp already stepped in it or is at its end).
 * The step advances with the schedule even when its value would not raise what is set, so that
 * the ramp keeps its pace by iteration whatever the operator did.
 */
export function stepRamp(cfg: DowntimeRampConfig, s: DowntimeState, iteration: number): RampMove {
  if (s.step === null) return startRamp(cfg, s);
  if (s.lastStepIteration !== null && s.lastStepIteration >= iteration) {
    return { state: s, setMs: null, explanation: `ramp already stepped in iteration ${iteration}` };
  }
  if (s.step >= cfg.steps) return { state: s, setMs: null, explanation: `ramp at its end (${rampValueMs(cfg, cfg.steps)} ms)` };
  const step = s.step + 1;
  const value = Math.min(rampValueMs(cfg, step), s.ceilingMs);
  const next: DowntimeState = { ...s, step, lastStepIteration: iteration };
  if (s.currentMs !== null && value <= s.currentMs) {
    const why = s.operatorMs !== null ? `operator's ${s.currentMs} ms` : `${s.currentMs} ms`;
    return { state: next, setMs: null, explanation: `ramp step ${step}/${cfg.steps} (${value} ms) would not raise ${why}` };
  }
  return {
    state: { ...next, currentMs: value },
    setMs: value,
    explanation: `ramp step ${step}/${cfg.steps}: max downtime ${s.currentMs ?? '-'} -> ${value} ms`,
  };
}

/** The operator set the max downtime: it is sent as is and bounds the ramp as described above. */
export function operatorSetsDowntime(cfg: DowntimeRampConfig, s: DowntimeState, ms: number): RampMove {
  const scheduled = s.step === null ? rampValueMs(cfg, 0) : rampValueMs(cfg, s.step);
  const lowered = ms < (s.currentMs ?? scheduled);
  // Raising hands the ramp back its full range (it still only ever sends values above this one).
  const ceilingMs = lowered ? Math.min(s.ceilingMs, ms) : cfg.maxMs;
  const state: DowntimeState = { ...s, currentMs: ms, operatorMs: ms, ceilingMs };
  if (s.currentMs === ms) return { state, setMs: null, explanation: `operator's max downtime ${ms} ms already set` };
  return {
    state,
    setMs: ms,
    explanation: `operator sets max downtime ${s.currentMs ?? '-'} -> ${ms} ms${lowered ? ' (the ramp will not raise it again)' : ''}`,
  };
}
