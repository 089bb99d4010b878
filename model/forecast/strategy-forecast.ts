/**
 * PURE: a forecast of one migration before it starts — for each strategy, the total time,
 * downtime and bytes the dirty-page model (model/sim/dirty-page-model.ts) predicts, whether it
 * finishes within the policy's completion budget, and which strategy `auto` would pick.
 *
 * The model is the simulated hypervisor's, run once per strategy with the strategy's one action
 * taken at its point; no second model is written here. Assumptions, on top of that model's own:
 * - The guest keeps dirtying at the measured rate for the whole migration (a measurement over a
 *   second or so stands for minutes; a bursty guest is predicted at its average).
 * - Working set: when unknown, all of RAM (the pessimistic bound: re-dirtying is never capped).
 * - Touched RAM (what holds data; the rest migrates as zero pages, free here): QEMU's resident set
 *   when the host reports it, an upper bound (it includes QEMU's own memory); else all of RAM.
 * - The path carries `bandwidth` for the whole migration with nothing else on it; a migration
 *   bandwidth limit (`capBps`, the request's bandwidthMiBps) holds in pre-copy only: post-copy
 *   pulls at the path's speed, as QEMU does (model/sim/dirty-page-model.ts).
 * - Pre-copy switches over once what is left fits the max downtime that ferry's ramp has set by
 *   then (policy.downtime: initialMs, one step per iteration from startAfterIteration up to maxMs;
 *   the steps a stall verdict adds are not modelled). Auto-converge is not modelled (ferry's
 *   controller does not use it).
 * - Setup and finish take the lab's measured times (LAB_TIMING).
 * - A strategy that would run past the completion budget is cut there: it does not fit.
 */
import {
  advance, jobStats, LAB_TIMING, pauseGuest, setMaxDowntime, startPostcopy, startSimMigration,
  type SimMigrationState, type SimTiming,
} from '../sim/dirty-page-model';
import { completionBudgetMs, rampValueMs, type ConvergencePolicy } from '../convergence-policy';

const MiB = 1024 * 1024;
const STEP_MS = 100;

export const FORECAST_STRATEGIES = ['precopy', 'postcopy-after-first-pass', 'postcopy-at-once', 'pause'] as const;
export type ForecastStrategy = (typeof FORECAST_STRATEGIES)[number];

export interface ForecastInput {
  memoryBytes: number;
  /** Measured dirty rate (bytes/s). */
  dirtyBps: number;
  /** Working set (bytes), when known. */
  workingSetBytes?: number | null;
  /** RAM that holds data (bytes), when known: the rest are zero pages, nearly free to send. */
  touchedBytes?: number | null;
  /** What the path carries (bytes/s). */
  bandwidthBps: number;
  /** The migration's bandwidth limit (bytes/s), pre-copy only; absent or null: none. */
  capBps?: number | null;
  policy: ConvergencePolicy;
  /** The pre-checks' post-copy eligibility (no VFIO, vPMEM…); the policy's `allowed` is apart. */
  postcopyEligible: boolean;
  timing?: SimTiming;
  /** The dirty-page model as before 2026-12-01 (a page counted twice): recorded forecasts only. */
  legacyDirtyCount?: boolean;
}

export interface StrategyForecast {
  strategy: ForecastStrategy;
  /** Whether the policy lets ferry use this strategy for this guest at all. */
  allowed: boolean;
  /** Why not, when not allowed. */
  notAllowedBecause: string | null;
  completes: boolean;
  /** Predicted total time (ms): to completion, or the budget when it would not finish in it. */
  totalMs: number;
  /** Predicted downtime (ms); null when it would not complete. */
  downtimeMs: number | null;
  bytes: number;
  iterations: number;
  /** Completes within the completion budget (downtime within the ceiling for pre-copy by construction). */
  fitsBudget: boolean;
}

export interface MigrationForecast {
  budgetMs: number;
  strategies: StrategyForecast[];
  /** What `auto` picks; null when nothing allowed would finish (the migration would be refused). */
  pick: ForecastStrategy | null;
  pickReason: string;
}

function allowance(strategy: ForecastStrategy, input: ForecastInput): string | null {
  if (strategy === 'postcopy-after-first-pass' || strategy === 'postcopy-at-once') {
    if (!input.policy.postcopy.allowed) return 'the policy does not allow post-copy (postcopy.allowed: false)';
    if (!input.postcopyEligible) return 'the guest is not eligible for post-copy (pre-checks)';
  }
  if (strategy === 'pause' && !input.policy.pause.allowed) return 'the policy does not allow pausing (pause.allowed: false)';
  return null;
}

/**
 * The max downtime ferry's ramp has set once `iteration` has started (the schedule of
 * workflows/convergence/downtime-ramp.ts: step 0 when the job starts, then one step per iteration).
 */
export function rampedDowntimeMs(d: ConvergencePolicy['downtime'], iteration: number): number {
  return rampValueMs(d, iteration - d.startAfterIteration + 1);
}

/** The one action a strategy takes, at the first point it may: returns the state after it. */
function act(strategy: ForecastStrategy, s: SimMigrationState, afterIteration: number): SimMigrationState {
  if (s.mode !== 'precopy') return s;
  if (strategy === 'postcopy-at-once') return startPostcopy(s) ?? s;
  if (strategy === 'postcopy-after-first-pass' && s.iteration >= afterIteration) return startPostcopy(s) ?? s;
  if (strategy === 'pause') return pauseGuest(s);
  return s;
}

export function forecastStrategy(strategy: ForecastStrategy, input: ForecastInput): StrategyForecast {
  const budgetMs = completionBudgetMs(input.policy, input.memoryBytes / MiB);
  let s = startSimMigration(
    { memoryBytes: input.memoryBytes, dirtyBps: input.dirtyBps, workingSetBytes: input.workingSetBytes ?? undefined, touchedBytes: input.touchedBytes ?? undefined },
    { linkBps: input.bandwidthBps },
    { capBps: input.capBps ?? null, maxDowntimeMs: input.policy.downtime.initialMs, timing: input.timing ?? LAB_TIMING, dirtyCountedOnce: !input.legacyDirtyCount },
  );
  while (s.mode !== 'completed' && s.elapsedMs < budgetMs) {
    if (s.mode === 'precopy') s = setMaxDowntime(s, rampedDowntimeMs(input.policy.downtime, s.iteration));
    s = act(strategy, s, input.policy.postcopy.afterIteration);
    s = advance(s, STEP_MS);
  }
  const j = jobStats(s);
  const completes = j.job === 'completed';
  const why = allowance(strategy, input);
  return {
    strategy, allowed: why === null, notAllowedBecause: why, completes,
    totalMs: completes ? j.elapsedMs : budgetMs,
    downtimeMs: completes ? j.downtimeMs : null,
    bytes: j.dataProcessed,
    iterations: j.iteration ?? 0,
    fitsBudget: completes && j.elapsedMs <= budgetMs,
  };
}

/**
 * `auto`'s choice: pre-copy when it finishes within budget; else post-copy after the first pass
 * when allowed and eligible; else pause as the last resort; else nothing.
 */
export function pickStrategy(forecasts: readonly StrategyForecast[]): { pick: ForecastStrategy | null; reason: string } {
  const by = (k: ForecastStrategy) => forecasts.find((f) => f.strategy === k);
  const pre = by('precopy');
  if (pre?.fitsBudget) return { pick: 'precopy', reason: 'pre-copy converges within the budget' };
  const post = by('postcopy-after-first-pass');
  if (post?.allowed) return { pick: 'postcopy-after-first-pass', reason: 'pre-copy would not converge within the budget; post-copy is allowed and eligible' };
  const pause = by('pause');
  if (pause?.allowed) return { pick: 'pause', reason: `pre-copy would not converge and post-copy cannot be used (${post?.notAllowedBecause ?? 'n/a'}): pausing is the last resort` };
  return { pick: null, reason: 'pre-copy would not converge, and neither post-copy nor pausing is allowed' };
}

export function forecastMigrationStrategies(input: ForecastInput): MigrationForecast {
  if (!(input.memoryBytes > 0)) throw new RangeError(`memoryBytes must be a positive number of bytes, got ${input.memoryBytes}`);
  if (!(input.bandwidthBps > 0)) throw new RangeError(`bandwidthBps must be a positive number of bytes/s, got ${input.bandwidthBps}`);
  if (input.capBps != null && !(input.capBps > 0)) throw new RangeError(`capBps must be a positive number of bytes/s or null, got ${input.capBps}`);
  if (!(input.dirtyBps >= 0)) throw new RangeError(`dirtyBps must be zero or more bytes/s, got ${input.dirtyBps}`);
  const strategies = FORECAST_STRATEGIES.map((k) => forecastStrategy(k, input));
  const { pick, reason } = pickStrategy(strategies);
  return { budgetMs: completionBudgetMs(input.policy, input.memoryBytes / MiB), strategies, pick, pickReason: reason };
}
