import fs from 'node:fs';
import path from 'node:path';
import type { Trace, TraceSample } from '../../../bench/record-trace';
import {
  decide, initialControllerState, type ConvergencePolicy, type ConvergenceSample, type ControllerState, type Decision,
} from '../../../workflows/convergence';

/** Recorded lab traces (bench/record-trace.ts) and replaying them through the controller. */

const DIR = path.resolve(__dirname, '../../fixtures/traces');

export function loadTrace(name: string): Trace {
  return JSON.parse(fs.readFileSync(path.join(DIR, `${name}.json`), 'utf8')) as Trace;
}

export const TRACES = {
  idle: 'idle-256',
  neverConverges: 'capped-never-converges',
  neverConverges128: 'capped-never-converges-128',
  /** The 256 MiB one again, with a short bandwidth burst (cap lost for < 200 ms at 48 s). */
  neverConvergesBurst: 'capped-never-converges-burst',
  sawtoothFast: 'capped-sawtooth-converges',
  sawtoothSlow: 'capped-sawtooth-slow',
} as const;

export function toSample(trace: Trace, s: TraceSample, extra: Partial<ConvergenceSample> = {}): ConvergenceSample {
  return {
    atMs: s.atMs,
    iteration: s.iteration ?? 0,
    dataTotal: s.dataTotal ?? 0,
    dataRemaining: s.dataRemaining ?? 0,
    dataProcessed: s.dataProcessed ?? 0,
    memoryBps: s.memoryBps ?? 0,
    dirtyBps: s.dirtyBps ?? 0,
    mode: s.phase === 'setup' ? 'setup' : s.phase === 'post-copy' ? 'postcopy' : 'precopy',
    memoryMiB: trace.meta.vm.memoryMiB,
    postcopyEligible: true,
    ...extra,
  };
}

/** The trace's samples as the controller would get them (job-ended samples included). */
export function samplesOf(trace: Trace, extra: Partial<ConvergenceSample> = {}): ConvergenceSample[] {
  return trace.samples.map((s) => toSample(trace, s, extra));
}

export interface Step {
  sample: ConvergenceSample;
  decision: Decision;
}

/**
 * Feeds samples one by one. `react` may rewrite the next samples from the decisions so far (the
 * closed loop: after a pause the job reports 'paused', after a confirmed switch 'postcopy').
 */
export function replay(
  policy: ConvergencePolicy,
  samples: ConvergenceSample[],
  react: (sample: ConvergenceSample, history: Step[]) => ConvergenceSample = (s) => s,
  start: ControllerState = initialControllerState(policy),
): Step[] {
  const steps: Step[] = [];
  let state = start;
  for (const raw of samples) {
    const sample = react(raw, steps);
    const decision = decide(policy, state, sample);
    steps.push({ sample, decision });
    state = decision.state;
  }
  return steps;
}

/** Closed loop: once the controller asked for `kind`, later samples report `mode`. */
export function after(kind: 'pause' | 'start-postcopy', mode: ConvergenceSample['mode']) {
  return (sample: ConvergenceSample, history: Step[]): ConvergenceSample => {
    const asked = history.some((h) => h.decision.actions.some((a) => a.kind === kind));
    return asked && sample.dataTotal > 0 ? { ...sample, mode } : sample;
  };
}

export function actionsOf(steps: Step[]) {
  return steps.flatMap((st, i) => st.decision.actions.map((a) => ({ i, atMs: st.sample.atMs, iteration: st.decision.state.iteration, ...a })));
}

/** The first sample index of each new recorded iteration, once the job has started. */
export function iterationStarts(trace: Trace): Array<{ index: number; atMs: number; iteration: number; remaining: number }> {
  const out: Array<{ index: number; atMs: number; iteration: number; remaining: number }> = [];
  let last = 0;
  trace.samples.forEach((s, index) => {
    if ((s.dataTotal ?? 0) > 0 && (s.iteration ?? 0) > last) {
      last = s.iteration!;
      out.push({ index, atMs: s.atMs, iteration: s.iteration!, remaining: s.dataRemaining ?? 0 });
    }
  });
  return out;
}
