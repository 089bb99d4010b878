import { describe, expect, it } from 'vitest';
import {
  ConvergencePolicySchema, DEFAULT_CONVERGENCE_POLICY, decide, explainForceComplete, initialControllerState,
  type ConvergenceSample, type ControllerState, type Decision,
} from '../../../workflows/convergence';
import { TRACES, actionsOf, after, iterationStarts, loadTrace, replay, samplesOf, type Step } from './traces';

const defaults = DEFAULT_CONVERGENCE_POLICY;
const noPostcopy = ConvergencePolicySchema.parse({ postcopy: { allowed: false } });
const ALL = Object.values(TRACES);

/** Index of the first sample where the job had started (data to send). */
function firstStarted(samples: ConvergenceSample[]): number {
  return samples.findIndex((s) => s.dataTotal > 0 && s.mode !== 'setup');
}

/** Injects an operator command into the sample at index i. */
function withOperatorAt(samples: ConvergenceSample[], i: number, operator: ConvergenceSample['operator']): ConvergenceSample[] {
  return samples.map((s, k) => (k === i ? { ...s, operator } : s));
}

function downtimesSent(steps: Step[]): number[] {
  return actionsOf(steps).flatMap((a) => (a.kind === 'set-max-downtime' ? [a.ms] : []));
}

describe('controller: post-copy after the first pass (defaults, eligible)', () => {
  for (const name of ALL) {
    it(`${name}: nothing before the job started, start-postcopy at the first sample of iteration 2 and only then`, () => {
      const trace = loadTrace(name);
      const samples = samplesOf(trace);
      const steps = replay(defaults, samples);
      const start = firstStarted(samples);
      expect(steps.slice(0, start).every((s) => s.decision.actions.length === 0 && s.decision.verdict === 'starting')).toBe(true);
      expect(steps[start]!.decision.actions).toEqual([{ kind: 'set-max-downtime', ms: 100 }]);

      const pc = actionsOf(steps).filter((a) => a.kind === 'start-postcopy');
      const second = iterationStarts(trace).find((b) => b.iteration === iterationStarts(trace)[0]!.iteration + 1);
      if (!second) {
        expect(pc).toEqual([]); // the idle guest finished within its first pass
        return;
      }
      expect(pc).toHaveLength(1);
      expect(pc[0]!.i).toBe(second.index);
      expect(steps[second.index]!.decision.verdict).toBe('switching');
      expect(steps[second.index]!.decision.reason).toMatch(/iteration 2 reached .* post-copy allowed and eligible -> start post-copy/);
      // Nothing else is ever sent after the switch was asked for, and never an abort.
      expect(actionsOf(steps).filter((a) => a.i > second.index)).toEqual([]);
    });
  }

  it('never asks for post-copy when the migration is not eligible, nor with post-copy disallowed', () => {
    for (const name of ALL) {
      const samples = samplesOf(loadTrace(name));
      const notEligible = replay(defaults, samples.map((s) => ({ ...s, postcopyEligible: false })));
      const disallowed = replay(noPostcopy, samples);
      for (const steps of [notEligible, disallowed]) {
        expect(actionsOf(steps).some((a) => a.kind === 'start-postcopy')).toBe(false);
      }
    }
  });
});

describe("controller: post-copy only on a stall (postcopy.when 'on-stall', strategy auto's pre-copy pick)", () => {
  const onStall = ConvergencePolicySchema.parse({ postcopy: { when: 'on-stall' } });

  it('the saw-tooth guests converge in pre-copy: no post-copy at iteration 2, nor later', () => {
    for (const name of [TRACES.sawtoothFast, TRACES.sawtoothSlow]) {
      const samples = samplesOf(loadTrace(name));
      expect(actionsOf(replay(defaults, samples)).some((a) => a.kind === 'start-postcopy')).toBe(true); // the schedule would switch
      const steps = replay(onStall, samples);
      expect(actionsOf(steps).every((a) => a.kind === 'set-max-downtime')).toBe(true);
    }
  });

  it('the never-converging guest switches to post-copy at its first stall verdict, not before', () => {
    const steps = replay(onStall, samplesOf(loadTrace(TRACES.neverConverges128)), after('start-postcopy', 'postcopy'));
    const pc = actionsOf(steps).filter((a) => a.kind === 'start-postcopy');
    expect(pc).toHaveLength(1);
    const firstStall = steps.findIndex((s) => s.decision.reason.includes('-> stalled'));
    expect(pc[0]!.i).toBe(firstStall);
    expect(pc[0]!.iteration).toBeGreaterThan(2);
    expect(steps[firstStall]!.decision.reason).toMatch(/-> stalled; post-copy allowed and eligible -> start post-copy/);
    // Before it, the downtime ramp ran as it does without post-copy.
    expect(downtimesSent(steps.slice(0, firstStall))).toEqual(downtimesSent(replay(noPostcopy, samplesOf(loadTrace(TRACES.neverConverges128))).slice(0, firstStall)));
  });
});

describe('controller without post-copy: downtime ramp, then pause', () => {
  it('ramps one step per iteration and pauses the never-converging guest once stalled at the ramp end', () => {
    const trace = loadTrace(TRACES.neverConverges128);
    const steps = replay(noPostcopy, samplesOf(trace), after('pause', 'paused'));
    const acts = actionsOf(steps);
    expect(downtimesSent(steps)).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900]);
    // At most one downtime change per iteration.
    const perIteration = new Map<number, number>();
    for (const a of acts.filter((x) => x.kind === 'set-max-downtime')) perIteration.set(a.iteration, (perIteration.get(a.iteration) ?? 0) + 1);
    expect([...perIteration.values()].every((n) => n === 1)).toBe(true);

    const pause = acts.filter((a) => a.kind === 'pause');
    expect(pause).toHaveLength(1);
    const lastRamp = acts.filter((a) => a.kind === 'set-max-downtime').at(-1)!;
    expect(pause[0]!.i).toBeGreaterThan(lastRamp.i);
    const firstStall = steps.findIndex((s) => s.decision.reason.includes('-> stalled'));
    expect(firstStall).toBeGreaterThan(-1);
    expect(pause[0]!.i).toBeGreaterThanOrEqual(firstStall);
    expect(steps[pause[0]!.i]!.decision.reason).toMatch(
      /iteration \d+ \([^)]*\): remaining [\d.]+ MiB not below 96% of the minimum [\d.]+ MiB seen over 40 s ago .* -> stalled; post-copy not allowed by policy, max downtime at 900 ms, the ramp cannot go higher -> pause the guest/,
    );
    // Then it only waits: paused, no more actions, no abort within the budget.
    const later = steps.slice(pause[0]!.i + 1).filter((s) => s.sample.dataTotal > 0);
    expect(later.length).toBeGreaterThan(0);
    expect(later.every((s) => s.decision.verdict === 'paused' && s.decision.actions.length === 0)).toBe(true);
  });

  it('keeps ramping (not pausing) while the ramp can still go up on the 256 MiB never-converging trace', () => {
    const steps = replay(noPostcopy, samplesOf(loadTrace(TRACES.neverConverges)));
    expect(steps.some((s) => s.decision.verdict === 'stalled')).toBe(true);
    expect(actionsOf(steps).some((a) => a.kind === 'pause' || a.kind === 'abort')).toBe(false);
    const sent = downtimesSent(steps);
    expect(sent[0]).toBe(100);
    expect(sent).toEqual([...sent].sort((a, b) => a - b));
  });

  it('with pausing disallowed too, keeps going until the completion budget decides', () => {
    const policy = ConvergencePolicySchema.parse({ postcopy: { allowed: false }, pause: { allowed: false } });
    const steps = replay(policy, samplesOf(loadTrace(TRACES.neverConverges128)));
    expect(actionsOf(steps).filter((a) => a.kind !== 'set-max-downtime')).toEqual([]);
    const waiting = steps.filter((s) => /pausing not allowed -> keep going until the completion budget decides/.test(s.decision.reason));
    expect(waiting.length).toBeGreaterThan(0);
  });

  it('converges without any pause on the saw-tooth traces', () => {
    for (const name of [TRACES.sawtoothFast, TRACES.sawtoothSlow]) {
      const steps = replay(noPostcopy, samplesOf(loadTrace(name)));
      expect(actionsOf(steps).every((a) => a.kind === 'set-max-downtime')).toBe(true);
      expect(steps.some((s) => s.decision.verdict === 'stalled')).toBe(false);
    }
  });
});

describe('controller: completion budget', () => {
  const tight = (action: 'abort' | 'force-complete', extra: object = {}) =>
    ConvergencePolicySchema.parse({ ...extra, completion: { secondsPerGiB: 30, minSeconds: 30, action } });

  it('aborts once at the first sample past the budget (default action), then only waits', () => {
    const steps = replay(tight('abort', { postcopy: { allowed: false } }), samplesOf(loadTrace(TRACES.neverConverges)));
    const aborts = actionsOf(steps).filter((a) => a.kind === 'abort');
    expect(aborts).toHaveLength(1);
    expect(aborts[0]!.atMs).toBeGreaterThan(30_000);
    expect(steps[aborts[0]!.i - 1]!.sample.atMs).toBeLessThanOrEqual(30_000);
    expect(steps[aborts[0]!.i]!.decision.verdict).toBe('over-budget');
    expect(steps[aborts[0]!.i]!.decision.reason).toMatch(/past the completion budget of 30 s .* -> abort \(the guest keeps running on the source\)/);
    expect(actionsOf(steps).filter((a) => a.i > aborts[0]!.i)).toEqual([]);
  });

  it('force-completes with post-copy when allowed and eligible, else a pause, else aborts', () => {
    const samples = samplesOf(loadTrace(TRACES.neverConverges));
    // afterIteration far away so that the budget, not the schedule, triggers the switch.
    const late = { postcopy: { afterIteration: 50 } };
    const kinds = (steps: Step[]) => actionsOf(steps).filter((a) => a.kind !== 'set-max-downtime').map((a) => a.kind);
    expect(kinds(replay(tight('force-complete', late), samples))).toEqual(['start-postcopy']);
    expect(kinds(replay(tight('force-complete', late), samples.map((s) => ({ ...s, postcopyEligible: false }))))).toEqual(['pause']);
    const neither = tight('force-complete', { postcopy: { allowed: false }, pause: { allowed: false } });
    const steps = replay(neither, samples);
    expect(kinds(steps)).toEqual(['abort']);
    expect(steps.find((s) => s.decision.actions.some((a) => a.kind === 'abort'))!.decision.reason).toMatch(/force-complete impossible/);
  });

  it('once paused, waits, and at twice the budget aborts and resumes the guest it paused', () => {
    const policy = ConvergencePolicySchema.parse({ postcopy: { allowed: false }, completion: { secondsPerGiB: 15, minSeconds: 15, action: 'force-complete' } });
    const steps = replay(policy, samplesOf(loadTrace(TRACES.neverConverges)), after('pause', 'paused'));
    const kinds = actionsOf(steps).filter((a) => a.kind !== 'set-max-downtime');
    expect(kinds.map((a) => a.kind)).toEqual(['pause', 'resume-and-abort']);
    expect(kinds[0]!.atMs).toBeGreaterThan(15_000);
    expect(kinds[1]!.atMs).toBeGreaterThan(30_000);
    expect(steps[kinds[1]!.i - 1]!.decision.verdict).toBe('paused');
    expect(steps[kinds[1]!.i]!.decision.reason).toMatch(/twice the completion budget of 15 s -> abort and resume the guest on the source/);
  });

  it('leaves a guest paused by someone else paused when it aborts', () => {
    const policy = ConvergencePolicySchema.parse({ completion: { secondsPerGiB: 10, minSeconds: 10 } });
    const samples = samplesOf(loadTrace(TRACES.neverConverges)).map((s) => (s.dataTotal > 0 ? { ...s, mode: 'paused' as const } : s));
    const steps = replay(policy, samples);
    const kinds = actionsOf(steps).filter((a) => a.kind !== 'set-max-downtime');
    expect(kinds.map((a) => a.kind)).toEqual(['abort']);
    expect(kinds[0]!.atMs).toBeGreaterThan(20_000);
  });
});

describe('controller in post-copy', () => {
  it('never aborts nor acts, whatever the budget or the operator says', () => {
    const policy = ConvergencePolicySchema.parse({ completion: { secondsPerGiB: 1, minSeconds: 1, action: 'abort' } });
    for (const name of ALL) {
      const samples = samplesOf(loadTrace(name));
      const steps = replay(policy, withOperatorAt(samples, samples.length - 2, { forceComplete: true, maxDowntimeMs: 5000, bandwidthMiBps: 10 }), after('start-postcopy', 'postcopy'));
      const pcAt = steps.findIndex((s) => s.sample.mode === 'postcopy');
      if (pcAt < 0) continue; // finished before iteration 2
      expect(actionsOf(steps).filter((a) => a.i >= pcAt)).toEqual([]);
      expect(steps.slice(pcAt).every((s) => s.decision.verdict === 'postcopy')).toBe(true);
      expect(steps.at(-2)!.decision.reason).toMatch(/operator command ignored: post-copy is running/);
    }
  });

  it('does not abort while a requested switch is unconfirmed, even past twice the budget', () => {
    // Budget 15 s: post-copy is asked for at iteration 2 (~12 s); the trace runs on to 60 s.
    const policy = ConvergencePolicySchema.parse({ completion: { secondsPerGiB: 15, minSeconds: 15 } });
    const steps = replay(policy, samplesOf(loadTrace(TRACES.neverConverges)));
    expect(steps.filter((s) => s.sample.dataTotal > 0).at(-1)!.sample.atMs).toBeGreaterThan(30_000);
    expect(actionsOf(steps).map((a) => a.kind)).toEqual(['set-max-downtime', 'start-postcopy']);
    expect(steps.filter((s) => s.sample.dataTotal > 0).at(-1)!.decision.verdict).toBe('switching');
  });
});

describe('controller: operator commands', () => {
  const trace = () => loadTrace(TRACES.neverConverges128);

  it('force-complete: post-copy if allowed and eligible, else pause, else refused with the reason', () => {
    const policy = ConvergencePolicySchema.parse({ postcopy: { afterIteration: 50 } });
    const samples = samplesOf(trace());
    const at = firstStarted(samples) + 3;
    const run = (p = policy, eligible = true) =>
      replay(p, withOperatorAt(samples.map((s) => ({ ...s, postcopyEligible: eligible })), at, { forceComplete: true }));
    const pc = run();
    expect(pc[at]!.decision.actions).toEqual([{ kind: 'start-postcopy' }]);
    expect(pc[at]!.decision.reason).toMatch(/operator force-complete -> start post-copy/);
    expect(run(policy, false)[at]!.decision.actions).toEqual([{ kind: 'pause' }]);
    const none = ConvergencePolicySchema.parse({ postcopy: { allowed: false }, pause: { allowed: false } });
    const refused = run(none, true);
    expect(refused[at]!.decision.actions).toEqual([]);
    expect(refused[at]!.decision.reason).toMatch(/force-complete refused: post-copy not allowed by policy and pausing the guest not allowed by policy/);
  });

  it('force-complete before the job started is carried out at its first sample, never earlier', () => {
    const samples = samplesOf(trace());
    const steps = replay(defaults, withOperatorAt(samples, 0, { forceComplete: true }));
    const start = firstStarted(samples);
    expect(steps[0]!.decision.actions).toEqual([]);
    expect(steps[0]!.decision.reason).toMatch(/force-complete accepted: start post-copy once the job has started/);
    expect(steps[start]!.decision.actions).toEqual([{ kind: 'set-max-downtime', ms: 100 }, { kind: 'start-postcopy' }]);
  });

  it('explains for an update validator whether force-complete would be accepted', () => {
    const s = initialControllerState(defaults);
    expect(explainForceComplete(defaults, s, true)).toMatchObject({ accepted: true, means: 'start-postcopy' });
    expect(explainForceComplete(defaults, { ...s, phase: 'postcopy' }, true)).toMatchObject({ accepted: false });
  });

  it('an operator-raised max downtime is never lowered by the ramp', () => {
    const samples = samplesOf(trace());
    const at = iterationStarts(trace())[1]!.index + 1; // early in iteration 2
    const steps = replay(noPostcopy, withOperatorAt(samples, at, { maxDowntimeMs: 650 }));
    const sent = downtimesSent(steps);
    expect(sent).toEqual([100, 200, 650, 700, 800, 900]);
    const afterOp = actionsOf(steps).filter((a) => a.kind === 'set-max-downtime' && a.i > at);
    expect(afterOp.every((a) => a.kind === 'set-max-downtime' && a.ms > 650)).toBe(true);
  });

  it('an operator max downtime above the ramp ends the ramp: a stall then pauses', () => {
    const samples = samplesOf(trace());
    const at = firstStarted(samples) + 1;
    const steps = replay(noPostcopy, withOperatorAt(samples, at, { maxDowntimeMs: 2000 }), after('pause', 'paused'));
    expect(downtimesSent(steps)).toEqual([100, 2000]);
    const pause = actionsOf(steps).find((a) => a.kind === 'pause');
    expect(pause).toBeDefined();
    expect(steps[pause!.i]!.decision.reason).toMatch(/max downtime at 2000 ms, the ramp cannot go higher -> pause/);
  });

  it('sets the operator bandwidth once', () => {
    const samples = samplesOf(trace());
    const at = firstStarted(samples) + 2;
    let steps = replay(defaults, withOperatorAt(samples, at, { bandwidthMiBps: 64 }));
    expect(steps[at]!.decision.actions).toEqual([{ kind: 'set-bandwidth', mibps: 64 }]);
    steps = replay(defaults, withOperatorAt(withOperatorAt(samples, at, { bandwidthMiBps: 64 }), at + 1, { bandwidthMiBps: 64 }));
    expect(steps[at + 1]!.decision.actions).toEqual([]);
    expect(steps[at + 1]!.decision.reason).toMatch(/already set/);
  });
});

describe('controller: iteration numbering and durability', () => {
  it('normalises libvirt iterations that do not start at 1 (earlier cancelled migrations counted)', () => {
    for (const name of ALL) {
      const samples = samplesOf(loadTrace(name));
      const shifted = samples.map((s) => (s.dataTotal > 0 ? { ...s, iteration: s.iteration + 7 } : s));
      for (const policy of [defaults, noPostcopy]) {
        const a = replay(policy, samples);
        const b = replay(policy, shifted);
        expect(b.map((s) => s.decision.actions)).toEqual(a.map((s) => s.decision.actions));
        expect(b.map((s) => s.decision.verdict)).toEqual(a.map((s) => s.decision.verdict));
        expect(b.map((s) => s.decision.state.iteration)).toEqual(a.map((s) => s.decision.state.iteration));
      }
      const start = firstStarted(samples);
      expect(replay(defaults, shifted)[start]!.decision.reason).toMatch(/libvirt counts iterations from 8: normalised to 1/);
    }
  });

  it('survives a JSON round trip of its state at any sample (continue-as-new) with identical decisions', () => {
    for (const name of ALL) {
      const samples = samplesOf(loadTrace(name));
      for (const policy of [defaults, noPostcopy]) {
        const straight = replay(policy, samples, after('pause', 'paused'));
        for (let cut = 0; cut < samples.length; cut += 7) {
          const head = straight.slice(0, cut);
          const carried = JSON.parse(JSON.stringify(head.at(-1)?.decision.state ?? initialControllerState(policy))) as ControllerState;
          const tail = replay(policy, samples.slice(cut), (s, hist) => after('pause', 'paused')(s, head.concat(hist)), carried);
          const expected = straight.slice(cut).map((s) => strip(s.decision));
          expect(tail.map((s) => strip(s.decision))).toEqual(expected);
        }
      }
    }
  });

  it('explains every decision with the numbers behind it', () => {
    const steps = replay(noPostcopy, samplesOf(loadTrace(TRACES.neverConverges128)));
    for (const s of steps) expect(s.decision.reason.length).toBeGreaterThan(10);
    const stalled = steps.find((s) => s.decision.reason.includes('-> stalled'))!;
    expect(stalled.decision.reason).toMatch(/^iteration \d+ \(\d+ MiB\/s sent, \d+ MiB\/s dirtied\): remaining \d+ MiB not below 96% of the minimum \d+ MiB seen over 40 s ago \(iteration \d+\) -> stalled; /);
  });

  it('is a pure function: the same inputs give the same decision', () => {
    const samples = samplesOf(loadTrace(TRACES.neverConverges));
    const s0 = initialControllerState(defaults);
    const d1: Decision = decide(defaults, s0, samples[5]!);
    const d2: Decision = decide(defaults, s0, samples[5]!);
    expect(d2).toEqual(d1);
    expect(s0).toEqual(initialControllerState(defaults));
  });
});

/** What must be identical after a cut (everything the workflow uses). */
function strip(d: Decision) {
  return { actions: d.actions, verdict: d.verdict, reason: d.reason, state: d.state };
}
