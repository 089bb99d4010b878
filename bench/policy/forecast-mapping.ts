/**
 * PURE: which of ferry's forecast strategies (model/forecast) models each bench strategy, with the
 * policy the forecast must be asked with so that its pre-copy behaves as that strategy's does, or
 * none, with the reason. Nothing is guessed: a strategy whose steering the forecast cannot express
 * (throttling, downtime stepped by wall clock) is left unmapped and the report says why.
 *
 * The forecast's pre-copy switches over once what is left fits the max downtime in force; ferry's
 * ramp raises it once per iteration (policy.downtime). A raw strategy that never touches the max
 * downtime runs at QEMU's own 300 ms: asked with a ramp of one step from 300 to 300 ms, the forecast
 * holds 300 ms throughout, which is what that strategy does.
 */
import type { ConvergencePolicyInput } from '../../model/convergence-policy';
import type { ForecastResult } from '../../model/forecast/schemas';
import type { ForecastStrategy } from '../../model/forecast/strategy-forecast';
import { novaDataGb, novaDowntimeSteps } from './strategies';

/** QEMU's default max downtime: what libvirt leaves in force when nobody sets one. */
export const QEMU_DEFAULT_MAX_DOWNTIME_MS = 300;

/** A fixed max downtime as a forecast policy: a one-step ramp from `ms` to `ms`. */
export function fixedDowntime(ms: number): NonNullable<ConvergencePolicyInput['downtime']> {
  return { initialMs: ms, maxMs: ms, steps: 1 };
}

export type ForecastMapping =
  /** The forecast of `strategy`, asked with `policy` (absent: ferry's defaults). */
  | { kind: 'strategy'; strategy: ForecastStrategy; policy?: ConvergencePolicyInput; note: string }
  /** ferry's default policy: post-copy after the first pass when the guest is eligible, else pre-copy with the ramp. */
  | { kind: 'ferry-default'; note: string }
  /** ferry-auto: the strategy the forecast picks. */
  | { kind: 'pick'; policy: ConvergencePolicyInput; note: string }
  | { kind: 'none'; reason: string };

export interface MappingContext {
  /** Guest RAM, bytes: Nova's timers scale with it. */
  memoryBytes: number;
  /** The forecast's completion budget, ms (ferry's default for the guest: 120 s for 128 MiB). */
  budgetMs: number;
}

export function forecastMappingFor(benchStrategy: string, ctx: MappingContext): ForecastMapping {
  switch (benchStrategy) {
    case 'ferry':
      return { kind: 'ferry-default', note: "ferry's default: post-copy once iteration 2 starts (pre-copy with the ramp before), pre-copy with the ramp when not eligible" };
    case 'ferry-auto':
      return { kind: 'pick', policy: { strategy: 'auto' }, note: "the forecast's pick (pre-copy with post-copy kept for a stall, or post-copy after the first pass)" };
    case 'postcopy-at-once':
      return { kind: 'strategy', strategy: 'postcopy-at-once', policy: { downtime: fixedDowntime(QEMU_DEFAULT_MAX_DOWNTIME_MS) }, note: 'same strategy' };
    case 'postcopy-after-pass':
      return {
        kind: 'strategy', strategy: 'postcopy-after-first-pass',
        policy: { downtime: fixedDowntime(QEMU_DEFAULT_MAX_DOWNTIME_MS), postcopy: { afterIteration: 2 } },
        note: "same strategy; QEMU's 300 ms until the switch",
      };
    case 'libvirt-default':
      return { kind: 'strategy', strategy: 'precopy', policy: { downtime: fixedDowntime(QEMU_DEFAULT_MAX_DOWNTIME_MS) }, note: "pre-copy at QEMU's fixed 300 ms (no ramp)" };
    case 'nova':
    case 'nova-force-complete': {
      // Nova's first downtime step (50 ms) holds until its second one, 75 s x max(RAM GiB, 2) later;
      // its timeout (abort, or post-copy when forced) comes at 800 s x that. Within a budget
      // shorter than the second step, Nova is pre-copy at a fixed 50 ms: the forecast models that.
      const steps = novaDowntimeSteps(novaDataGb(ctx.memoryBytes));
      const [first, second] = [steps[0]!, steps[1]!];
      if (second[0] * 1000 < ctx.budgetMs) {
        return { kind: 'none', reason: `Nova steps its max downtime by wall clock (every ${second[0]} s), inside the forecast's ${Math.round(ctx.budgetMs / 1000)} s budget; the forecast ramps per iteration` };
      }
      return {
        kind: 'strategy', strategy: 'precopy', policy: { downtime: fixedDowntime(first[1]) },
        note: `pre-copy at Nova's first step, ${first[1]} ms, fixed: its next step (${second[0]} s)${benchStrategy === 'nova-force-complete' ? ' and its post-copy' : ''} come after the ${Math.round(ctx.budgetMs / 1000)} s budget`,
      };
    }
    case 'kubevirt':
      return { kind: 'none', reason: 'KubeVirt raises its max downtime every 10 s from iteration 3 (wall clock); the forecast ramps once per iteration' };
    case 'ovirt':
      return { kind: 'none', reason: 'auto-converge throttles the guest: throttling is not modelled by the forecast' };
    case 'auto-converge':
      return { kind: 'none', reason: 'throttling (auto-converge) is not modelled by the forecast' };
    default:
      throw new Error(`forecast mapping: unknown bench strategy '${benchStrategy}'; known: ferry, ferry-auto, postcopy-at-once, postcopy-after-pass, libvirt-default, nova, nova-force-complete, kubevirt, ovirt, auto-converge`);
  }
}

/** The policy the forecast is asked with for this mapping (null: no forecast is needed). */
export function forecastPolicyFor(m: ForecastMapping): ConvergencePolicyInput | null {
  switch (m.kind) {
    case 'strategy': return m.policy ?? {};
    case 'ferry-default': return {};
    case 'pick': return m.policy;
    case 'none': return null;
  }
}

export interface ForecastPrediction {
  /** The forecast strategy read; null when there is none to read (the reason says why). */
  strategy: ForecastStrategy | null;
  /** Predicted total, ms, when the forecast says the strategy completes within its budget. */
  totalMs: number | null;
  /** The forecast says it completes within its budget. */
  completes: boolean;
  downtimeMs: number | null;
  reason: string;
}

/** The prediction for one run: the forecast's line for the strategy that models the bench's. */
export function predictionFrom(m: ForecastMapping, f: ForecastResult): ForecastPrediction {
  let strategy: ForecastStrategy | null;
  let reason: string;
  switch (m.kind) {
    case 'none':
      return { strategy: null, totalMs: null, completes: false, downtimeMs: null, reason: m.reason };
    case 'strategy':
      strategy = m.strategy;
      reason = m.note;
      break;
    case 'ferry-default':
      strategy = f.postcopyEligible ? 'postcopy-after-first-pass' : 'precopy';
      reason = f.postcopyEligible ? 'post-copy after the first pass (eligible)' : 'pre-copy with the ramp (not eligible for post-copy)';
      break;
    case 'pick':
      strategy = f.pick;
      reason = f.pick === null ? `no pick: ${f.pickReason}` : `pick: ${f.pickReason}`;
      break;
  }
  const line = strategy === null ? undefined : f.strategies.find((s) => s.strategy === strategy);
  if (!line) return { strategy, totalMs: null, completes: false, downtimeMs: null, reason: strategy === null ? reason : `the forecast has no line for ${strategy}` };
  return {
    strategy,
    totalMs: line.completes ? line.totalMs : null,
    completes: line.completes,
    downtimeMs: line.downtimeMs,
    reason,
  };
}
