import { initialDowntimeState, operatorSetsDowntime, rampCanRise, startRamp, stepRamp, type RampMove } from './downtime-ramp';
import { ewmaBandwidth, fmtMiB, fmtSeconds, impliedDowntimeMs } from './estimates';
import { completionBudgetMs, forceCompleteMeans, type ConvergencePolicy, type ForceCompleteMeans } from '../../model/convergence-policy';
import { initialStallState, recordIteration, type StallVerdict } from './stall-detector';
import type { Action, ControllerState, ConvergenceSample, Decision, OperatorInput, Verdict } from './types';

/**
 * PURE: ferry's convergence controller. decide(policy, state, sample) is called with every job
 * sample the watch activity returns and says what to do now and why; the workflow executes the
 * actions and records the decision. No I/O, no clock, no randomness: the same inputs give the
 * same decision on replay, and the state is plain JSON carried across continue-as-new.
 *
 * Order of concerns for a sample:
 *   post-copy running  -> report only, never act (a broken post-copy is recovered elsewhere);
 *   job not started    -> nothing reaches QEMU yet (StartPostCopy would fail); operator commands wait;
 *   operator commands  -> bandwidth, max downtime, force-complete;
 *   paused / switching -> wait; abort only at twice the completion budget (never while switching
 *                         to post-copy: the switch may have happened already);
 *   completion budget  -> its action (abort | force-complete);
 *   new iteration      -> post-copy when its iteration comes (postcopy.when 'after-iteration'); else on a stall verdict: post-copy,
 *                         else one more ramp step, else pause, else wait for the budget; else the
 *                         ramp's scheduled step.
 */

export function initialControllerState(policy: ConvergencePolicy): ControllerState {
  return {
    version: 1,
    phase: 'starting',
    startedAtMs: null,
    iterationBase: null,
    iteration: 0,
    ewmaBps: null,
    downtime: initialDowntimeState(policy.downtime),
    stall: initialStallState(),
    pausedBy: null,
    budgetExceededAtMs: null,
    bandwidthMiBps: null,
    pending: { forceComplete: false, maxDowntimeMs: null, bandwidthMiBps: null },
    samples: 0,
  };
}

/** QEMU's migration has started: there is data to send (setup is over). */
export function jobStarted(sample: Pick<ConvergenceSample, 'mode' | 'dataTotal'>): boolean {
  return sample.mode === 'postcopy' || (sample.mode !== 'setup' && sample.dataTotal > 0);
}

/** Why post-copy may or may not be used for this migration. */
export function postcopyUsable(policy: ConvergencePolicy, eligible: boolean): { usable: boolean; why: string } {
  if (!policy.postcopy.allowed) return { usable: false, why: 'post-copy not allowed by policy' };
  if (!eligible) return { usable: false, why: 'post-copy not eligible (pre-checks)' };
  return { usable: true, why: 'post-copy allowed and eligible' };
}

/**
 * Whether an operator's force-complete would be carried out now, and how: for the workflow's
 * update validator, so that a refusal reaches the operator with its reason.
 */
export function explainForceComplete(
  policy: ConvergencePolicy,
  state: ControllerState,
  postcopyEligible: boolean,
): { accepted: boolean; means: ForceCompleteMeans | null; reason: string } {
  switch (state.phase) {
    case 'postcopy':
    case 'postcopy-requested':
      return { accepted: false, means: null, reason: 'already switching to or running in post-copy' };
    case 'paused':
    case 'pause-requested':
      return { accepted: false, means: null, reason: 'the guest is already paused (or being paused) to finish pre-copy' };
    case 'aborting':
      return { accepted: false, means: null, reason: 'the migration is being aborted' };
    default: {
      const means = forceCompleteMeans(policy, postcopyEligible);
      if (means === null) {
        return {
          accepted: false,
          means,
          reason: `${postcopyUsable(policy, postcopyEligible).why} and pausing the guest not allowed by policy`,
        };
      }
      const when = state.phase === 'starting' ? ' once the job has started' : '';
      return { accepted: true, means, reason: `${means === 'start-postcopy' ? 'start post-copy' : 'pause the guest'}${when}` };
    }
  }
}

export function decide(policy: ConvergencePolicy, state: ControllerState, sample: ConvergenceSample): Decision {
  const d = new DecisionBuilder(policy, { ...state, samples: state.samples + 1 }, sample);
  return d.run();
}

/** Collects the actions and the notes of one decision; each step below is a small function. */
class DecisionBuilder {
  private readonly actions: Action[] = [];
  private readonly notes: string[] = [];
  private readonly budgetMs: number;

  constructor(
    private readonly policy: ConvergencePolicy,
    private s: ControllerState,
    private readonly sample: ConvergenceSample,
  ) {
    // The data to move: the memory, plus the disks a block migration copies (as Nova and KubeVirt size it).
    this.budgetMs = completionBudgetMs(policy, dataMiB(sample));
  }

  run(): Decision {
    const { sample } = this;
    this.s = { ...this.s, ewmaBps: ewmaBandwidth(this.s.ewmaBps, sample.memoryBps) };

    if (sample.mode === 'postcopy' || this.s.phase === 'postcopy') return this.inPostcopy();
    if (sample.operator?.abort) {
      const aborted = this.operatorAbort(sample.operator.abort.reason);
      if (aborted) return aborted;
    }
    if (this.s.startedAtMs === null && !jobStarted(sample)) return this.beforeStart();
    if (!jobStarted(sample)) {
      return this.finish(this.currentVerdict(), `no job data in this sample (${sample.mode}); nothing to decide`);
    }

    const newIteration = this.advanceIteration();
    this.followMode();
    const stall = newIteration ? this.recordStall() : null;
    const prefix = this.describeSample(stall);

    this.applyOperatorSettings();
    if (this.s.downtime.step === null) this.ramp(startRamp(this.policy.downtime, this.s.downtime));

    switch (this.s.phase) {
      case 'aborting':
        return this.finish('over-budget', `${prefix}; abort already requested, waiting for the job to end`);
      case 'postcopy-requested':
        this.refuseForceComplete('already switching to post-copy');
        // Never abort here: StartPostCopy may already have switched QEMU over.
        return this.finish('switching', `${prefix}; post-copy requested, waiting for the switch to be confirmed`);
      case 'pause-requested':
      case 'paused':
        return this.whilePaused(prefix);
      default:
        return this.inPrecopy(prefix, newIteration, stall);
    }
  }

  // ---- phases ----------------------------------------------------------------------------

  private inPostcopy(): Decision {
    this.s = { ...this.s, phase: 'postcopy', pending: noPending() };
    const op = this.sample.operator;
    if (op && (op.forceComplete || op.maxDowntimeMs !== undefined || op.bandwidthMiBps !== undefined)) {
      this.notes.push('operator command ignored: post-copy is running');
    }
    return this.finish('postcopy', `post-copy running: remaining ${fmtMiB(this.sample.dataRemaining)}; nothing to decide (never abort in post-copy)`);
  }

  /**
   * The operator's abort: the job is aborted (and a guest the controller paused is resumed by the
   * roll-back) unless this migration is already switching to post-copy or aborting, in which case
   * the refusal is noted and the decision goes on as if no abort had come.
   */
  private operatorAbort(reason: string): Decision | undefined {
    const { s } = this;
    if (s.phase === 'postcopy-requested' || s.phase === 'aborting') {
      this.notes.push(`operator abort refused: ${s.phase === 'aborting' ? 'an abort is already under way' : 'post-copy was requested: the guest only moves forward now'}`);
      return undefined;
    }
    const ours = s.pausedBy === 'controller' || s.phase === 'pause-requested';
    this.actions.push(ours ? { kind: 'resume-and-abort' } : { kind: 'abort' });
    this.s = { ...this.s, phase: 'aborting' };
    return this.finish(this.currentVerdict(), `operator abort (${reason}) -> abort the job and roll back${ours ? ', resuming the guest ferry paused' : ''}`);
  }

  private beforeStart(): Decision {
    const op = this.sample.operator ?? {};
    const p = { ...this.s.pending };
    if (op.forceComplete) {
      const ex = explainForceComplete(this.policy, this.s, this.sample.postcopyEligible);
      if (ex.accepted) p.forceComplete = true;
      this.notes.push(ex.accepted ? `force-complete accepted: ${ex.reason}` : `force-complete refused: ${ex.reason}`);
    }
    if (op.maxDowntimeMs !== undefined && validMs(op.maxDowntimeMs)) p.maxDowntimeMs = op.maxDowntimeMs;
    if (op.bandwidthMiBps !== undefined && validMiBps(op.bandwidthMiBps)) p.bandwidthMiBps = op.bandwidthMiBps;
    if (op.maxDowntimeMs !== undefined || op.bandwidthMiBps !== undefined) this.notes.push('operator settings kept until the job has started');
    this.s = { ...this.s, pending: p };
    return this.finish('starting', `job setting up (${this.sample.mode}, no data yet): nothing reaches QEMU before its migration has started`);
  }

  private whilePaused(prefix: string): Decision {
    const { s, sample } = this;
    this.refuseForceComplete('the guest is already paused (or being paused)');
    const limit = 2 * this.budgetMs;
    if (sample.atMs > limit) {
      const ours = s.pausedBy === 'controller' || s.phase === 'pause-requested';
      this.actions.push(ours ? { kind: 'resume-and-abort' } : { kind: 'abort' });
      this.s = { ...this.s, phase: 'aborting', budgetExceededAtMs: s.budgetExceededAtMs ?? sample.atMs };
      return this.finish(
        'over-budget',
        `${prefix}; paused and still not done at ${fmtSeconds(sample.atMs)}, twice the completion budget of ` +
          `${fmtSeconds(this.budgetMs)} -> abort${ours ? ' and resume the guest on the source' : ' (the guest was paused by someone else: left paused)'}`,
      );
    }
    if (s.phase === 'pause-requested') return this.finish('switching', `${prefix}; pause requested, waiting for the guest to be paused`);
    return this.finish('paused', `${prefix}; guest paused, pre-copy finishing (abort at ${fmtSeconds(limit)})`);
  }

  private inPrecopy(prefix: string, newIteration: boolean, stall: StallVerdict | null): Decision {
    const { sample, policy } = this;
    const wantsForce = this.s.pending.forceComplete || sample.operator?.forceComplete === true;
    this.s = { ...this.s, pending: { ...this.s.pending, forceComplete: false } };
    if (wantsForce) {
      const ex = explainForceComplete(policy, this.s, sample.postcopyEligible);
      if (ex.accepted && ex.means) {
        this.switchOver(ex.means);
        return this.finish('switching', `${prefix}; operator force-complete -> ${ex.reason}`);
      }
      this.notes.push(`force-complete refused: ${ex.reason}`);
    }

    if (sample.atMs > this.budgetMs) return this.overBudget(prefix);

    if (!newIteration) {
      return this.finish(this.s.stall.stalled ? 'stalled' : 'converging', prefix);
    }
    const pc = postcopyUsable(policy, sample.postcopyEligible);
    if (pc.usable && policy.postcopy.when === 'after-iteration' && this.s.iteration >= policy.postcopy.afterIteration) {
      this.switchOver('start-postcopy');
      return this.finish('switching', `${prefix}; iteration ${this.s.iteration} reached (post-copy after iteration ${policy.postcopy.afterIteration}), ${pc.why} -> start post-copy`);
    }
    if (stall?.stalled) return this.onStall(prefix, pc);
    if (this.s.iteration >= policy.downtime.startAfterIteration) {
      const move = stepRamp(policy.downtime, this.s.downtime, this.s.iteration);
      this.ramp(move);
    }
    return this.finish('converging', prefix);
  }

  /** A stall verdict: the cheapest way out that the policy allows, one step per iteration. */
  private onStall(prefix: string, pc: { usable: boolean; why: string }): Decision {
    const { policy } = this;
    if (pc.usable) {
      this.switchOver('start-postcopy');
      return this.finish('switching', `${prefix} -> stalled; ${pc.why} -> start post-copy`);
    }
    if (rampCanRise(policy.downtime, this.s.downtime)) {
      const move = stepRamp(policy.downtime, this.s.downtime, this.s.iteration);
      this.s = { ...this.s, downtime: move.state };
      if (move.setMs !== null) this.actions.push({ kind: 'set-max-downtime', ms: move.setMs });
      return this.finish('stalled', `${prefix} -> stalled; ${pc.why}, downtime ramp not at its end -> ${move.explanation}`);
    }
    const atEnd = `max downtime at ${this.s.downtime.currentMs ?? '-'} ms, the ramp cannot go higher`;
    if (policy.pause.allowed) {
      this.switchOver('pause');
      return this.finish('switching', `${prefix} -> stalled; ${pc.why}, ${atEnd} -> pause the guest`);
    }
    const left = this.budgetMs - this.sample.atMs;
    return this.finish(
      'stalled',
      `${prefix} -> stalled; ${pc.why}, ${atEnd}, pausing not allowed -> keep going until the completion budget decides (${fmtSeconds(left)} left)`,
    );
  }

  private overBudget(prefix: string): Decision {
    const { policy, sample } = this;
    const over = `${fmtSeconds(sample.atMs)} past the completion budget of ${fmtSeconds(this.budgetMs)} (${policy.completion.secondsPerGiB} s/GiB × ${Math.max(1, Math.ceil(dataMiB(sample) / 1024))} GiB${sample.diskCopyMiB ? ' of memory and copied disks' : ''}, at least ${policy.completion.minSeconds} s)`;
    this.s = { ...this.s, budgetExceededAtMs: this.s.budgetExceededAtMs ?? sample.atMs };
    if (policy.completion.action === 'force-complete') {
      const means = forceCompleteMeans(policy, sample.postcopyEligible);
      if (means) {
        this.switchOver(means);
        return this.finish('over-budget', `${prefix}; ${over} -> force-complete: ${means === 'start-postcopy' ? 'start post-copy' : `${postcopyUsable(policy, sample.postcopyEligible).why}, pause the guest`}`);
      }
      this.actions.push({ kind: 'abort' });
      this.s = { ...this.s, phase: 'aborting' };
      return this.finish('over-budget', `${prefix}; ${over} -> force-complete impossible (${postcopyUsable(policy, sample.postcopyEligible).why}, pausing not allowed) -> abort`);
    }
    this.actions.push({ kind: 'abort' });
    this.s = { ...this.s, phase: 'aborting' };
    return this.finish('over-budget', `${prefix}; ${over} -> abort (the guest keeps running on the source)`);
  }

  // ---- steps -----------------------------------------------------------------------------

  /** Normalises libvirt's iteration by the first value seen once started; true on a new one. */
  private advanceIteration(): boolean {
    const { sample } = this;
    let { startedAtMs, iterationBase } = this.s;
    if (startedAtMs === null) {
      startedAtMs = sample.atMs;
      iterationBase = sample.iteration;
      if (sample.iteration > 1) this.notes.push(`libvirt counts iterations from ${sample.iteration}: normalised to 1`);
    }
    const normalised = Math.max(1, sample.iteration - (iterationBase ?? 0) + 1);
    const iteration = Math.max(this.s.iteration, normalised);
    const isNew = iteration > this.s.iteration;
    this.s = { ...this.s, startedAtMs, iterationBase, iteration, phase: this.s.phase === 'starting' ? 'precopy' : this.s.phase };
    return isNew;
  }

  /** Follows what the job reports: the guest paused (by us or someone else) or running again. */
  private followMode(): void {
    const { s, sample } = this;
    if (sample.mode === 'paused' && s.phase !== 'paused' && s.phase !== 'aborting') {
      this.s = { ...s, phase: 'paused', pausedBy: s.phase === 'pause-requested' ? 'controller' : 'other' };
      if (s.phase !== 'pause-requested') this.notes.push('the guest was paused by someone else');
    } else if (sample.mode === 'precopy' && s.phase === 'paused') {
      this.s = { ...s, phase: 'precopy', pausedBy: null };
      this.notes.push('the guest runs again (resumed by someone else)');
    }
  }

  private recordStall(): StallVerdict {
    const r = recordIteration(this.policy.stall, this.s.stall, {
      atMs: this.sample.atMs,
      iteration: this.s.iteration,
      remainingBytes: this.sample.dataRemaining,
    });
    this.s = { ...this.s, stall: r.state };
    return r.verdict;
  }

  private applyOperatorSettings(): void {
    const op: OperatorInput = this.sample.operator ?? {};
    const mibps = op.bandwidthMiBps ?? this.s.pending.bandwidthMiBps ?? undefined;
    const ms = op.maxDowntimeMs ?? this.s.pending.maxDowntimeMs ?? undefined;
    this.s = { ...this.s, pending: { ...this.s.pending, bandwidthMiBps: null, maxDowntimeMs: null } };
    if (mibps !== undefined) {
      if (!validMiBps(mibps)) this.notes.push(`operator bandwidth ${mibps} MiB/s refused: not a positive number`);
      else if (mibps === this.s.bandwidthMiBps) this.notes.push(`operator bandwidth ${mibps} MiB/s already set`);
      else {
        this.actions.push({ kind: 'set-bandwidth', mibps });
        this.notes.push(`operator sets bandwidth ${this.s.bandwidthMiBps ?? '-'} -> ${mibps} MiB/s`);
        this.s = { ...this.s, bandwidthMiBps: mibps };
      }
    }
    if (ms !== undefined) {
      if (!validMs(ms)) this.notes.push(`operator max downtime ${ms} ms refused: not a whole number of ms from 1`);
      else this.ramp(operatorSetsDowntime(this.policy.downtime, this.s.downtime, ms));
    }
  }

  private ramp(move: RampMove): void {
    this.s = { ...this.s, downtime: move.state };
    if (move.setMs !== null) this.actions.push({ kind: 'set-max-downtime', ms: move.setMs });
    this.notes.push(move.explanation);
  }

  private switchOver(means: ForceCompleteMeans): void {
    this.actions.push(means === 'start-postcopy' ? { kind: 'start-postcopy' } : { kind: 'pause' });
    this.s = { ...this.s, phase: means === 'start-postcopy' ? 'postcopy-requested' : 'pause-requested' };
  }

  private refuseForceComplete(why: string): void {
    if (this.sample.operator?.forceComplete || this.s.pending.forceComplete) this.notes.push(`force-complete ignored: ${why}`);
    this.s = { ...this.s, pending: { ...this.s.pending, forceComplete: false } };
  }

  /** "iteration 3 (22 MiB/s sent, 23 MiB/s dirtied): remaining …" with the stall verdict at a boundary. */
  private describeSample(stall: StallVerdict | null): string {
    const { sample, s } = this;
    const rates = [s.ewmaBps ? `${fmtMiB(s.ewmaBps)}/s sent` : null, sample.dirtyBps > 0 ? `${fmtMiB(sample.dirtyBps)}/s dirtied` : null]
      .filter((x) => x !== null)
      .join(', ');
    const head = `iteration ${s.iteration}${rates ? ` (${rates})` : ''}: `;
    if (stall) return `${head}${stall.explanation}`;
    const implied = impliedDowntimeMs(sample.dataRemaining, s.ewmaBps);
    return `${head}remaining ${fmtMiB(sample.dataRemaining)}${implied === null ? '' : `, implied downtime ${fmtSeconds(implied)}`}`;
  }

  private currentVerdict(): Verdict {
    switch (this.s.phase) {
      case 'starting':
        return 'starting';
      case 'postcopy':
        return 'postcopy';
      case 'paused':
        return 'paused';
      case 'postcopy-requested':
      case 'pause-requested':
        return 'switching';
      case 'aborting':
        return 'over-budget';
      default:
        return this.s.stall.stalled ? 'stalled' : 'converging';
    }
  }

  private finish(verdict: Verdict, reason: string): Decision {
    const { s, sample } = this;
    const extra = this.notes.length ? `; ${this.notes.join('; ')}` : '';
    return {
      actions: this.actions,
      reason: `${reason}${extra}`,
      state: s,
      verdict,
      observed: {
        iteration: s.iteration,
        remainingBytes: sample.dataRemaining,
        bandwidthBps: s.ewmaBps,
        impliedDowntimeMs: impliedDowntimeMs(sample.dataRemaining, s.ewmaBps),
        maxDowntimeMs: s.downtime.currentMs,
        budgetMs: this.budgetMs,
      },
    };
  }
}

function noPending(): ControllerState['pending'] {
  return { forceComplete: false, maxDowntimeMs: null, bandwidthMiBps: null };
}

function validMs(ms: number): boolean {
  return Number.isInteger(ms) && ms >= 1 && ms <= 2_000_000;
}

function validMiBps(mibps: number): boolean {
  return Number.isFinite(mibps) && mibps > 0;
}

/** What the completion budget is sized on: the guest's memory and any disk a block migration copies. */
function dataMiB(sample: Pick<ConvergenceSample, 'memoryMiB' | 'diskCopyMiB'>): number {
  return sample.memoryMiB + (sample.diskCopyMiB ?? 0);
}
