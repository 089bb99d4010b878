/**
 * PURE: what `strategy: auto` does with a forecast (strategy-forecast.ts) — the policy the
 * controller then follows for this migration, and the decision that records why, with the
 * numbers behind it, so the prediction can be checked against the outcome afterwards.
 *
 * The pick changes one thing, when post-copy is taken, and nothing else (budget, ramp, stall
 * detector, pause rules stay the operator's):
 * - pre-copy converges within the budget: post-copy only on a stall ('on-stall'), so a forecast
 *   that was wrong still ends the way the configured ladder would;
 * - it would not, and post-copy may be used: post-copy once the first pass is done
 *   ('after-iteration', at postcopy.afterIteration);
 * - it would not, and post-copy may not be used: the configured ladder, whose last rung is pausing.
 * - nothing allowed would finish: no policy; the caller refuses the migration before the claim.
 */
import type { ConvergencePolicy } from '../convergence-policy';
import type { BandwidthSource } from './path-bandwidth';
import type { ForecastStrategy, MigrationForecast, StrategyForecast } from './strategy-forecast';

const MiB = 1024 * 1024;

/** The policy the controller follows once `auto` has picked; the input is not changed. */
export function policyForPick(policy: ConvergencePolicy, pick: ForecastStrategy): ConvergencePolicy {
  switch (pick) {
    case 'precopy':
      return { ...policy, postcopy: { ...policy.postcopy, when: 'on-stall' } };
    case 'postcopy-after-first-pass':
      return { ...policy, postcopy: { ...policy.postcopy, when: 'after-iteration' } };
    case 'pause':
    case 'postcopy-at-once': // never picked (pickStrategy): the first pass is what makes post-copy cheap
      return policy;
  }
}

export interface ForecastDecision {
  reason: string;
  inputs: Record<string, number | string | boolean | null>;
}

function oneStrategy(f: StrategyForecast): string {
  const time = f.completes ? `${(f.totalMs / 1000).toFixed(1)} s` : `not done in ${(f.totalMs / 1000).toFixed(0)} s`;
  const downtime = f.downtimeMs === null ? '' : `, downtime ${Math.round(f.downtimeMs)} ms`;
  const allowed = f.allowed ? '' : ' (not allowed)';
  return `${f.strategy} ${time}${downtime}${f.fitsBudget ? '' : ', over budget'}${allowed}`;
}

/**
 * "128 MiB guest dirtying 64.0 MiB/s over a 64 MiB working set, path 12.0 MiB/s (the request's bandwidth limit):
 * precopy not done in 120 s, over budget; … -> postcopy-after-first-pass: <why>".
 */
export function forecastDecision(
  f: MigrationForecast,
  facts: { memoryMiB: number; dirtyBps: number; workingSetBytes?: number | null; touchedBytes?: number | null; bandwidthBps: number; bandwidthSource: BandwidthSource; bandwidthDetail: string;
    /** Learned from the pair's recent migrations; absent: the lab's (LAB_TIMING). */
    fixedCosts?: { ms: number; detail: string } },
): ForecastDecision {
  const picked = f.strategies.find((s) => s.strategy === f.pick) ?? null;
  const over = facts.workingSetBytes ? ` over a ${(facts.workingSetBytes / MiB).toFixed(0)} MiB working set` : '';
  const touched = facts.touchedBytes ? Math.min(facts.touchedBytes / MiB, facts.memoryMiB) : null;
  const holding = touched !== null && touched < facts.memoryMiB ? ` (${touched.toFixed(0)} MiB holding data, by QEMU's resident set)` : '';
  const fixed = facts.fixedCosts ? `; ${facts.fixedCosts.detail}` : '';
  const head = `${facts.memoryMiB} MiB guest${holding} dirtying ${(facts.dirtyBps / MiB).toFixed(1)} MiB/s${over}, path ${(facts.bandwidthBps / MiB).toFixed(1)} MiB/s (${facts.bandwidthDetail}${fixed})`;
  const then = f.pick === null ? `refuse: ${f.pickReason}` : `${f.pick}: ${f.pickReason}`;
  return {
    reason: `${head}: ${f.strategies.map(oneStrategy).join('; ')} -> ${then}`,
    inputs: {
      pick: f.pick,
      dirtyBps: Math.round(facts.dirtyBps),
      workingSetBytes: facts.workingSetBytes ? Math.round(facts.workingSetBytes) : null,
      touchedBytes: touched !== null ? Math.round(touched * MiB) : null,
      bandwidthBps: Math.round(facts.bandwidthBps),
      bandwidthSource: facts.bandwidthSource,
      budgetMs: f.budgetMs,
      predictedTotalMs: picked ? Math.round(picked.totalMs) : null,
      predictedDowntimeMs: picked?.downtimeMs === null || picked === null ? null : Math.round(picked.downtimeMs),
      predictedBytes: picked ? Math.round(picked.bytes) : null,
      ...(facts.fixedCosts ? { fixedCostsMs: Math.round(facts.fixedCosts.ms) } : {}),
    },
  };
}
