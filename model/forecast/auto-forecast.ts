/**
 * PURE: `strategy: auto`'s forecast of one migration from the facts measured on its host — the
 * path's bandwidth, the forecast of every strategy and the decision that records it, or why there
 * is none (no dirty rate, no bandwidth).
 *
 * Computed by the gatherForecastFacts activity and returned in its result, so the history records
 * the forecast itself: a replay reads it back instead of recomputing it with the model of the day
 * (a later model change would otherwise pick differently for a migration in flight and make its
 * history nondeterministic). Runs whose result has no forecast (recorded before) compute it in the
 * workflow from the recorded facts, as they did.
 */
import { z } from 'zod';
import { ConvergencePolicySchema } from '../convergence-policy';
import { pathFromFacts, type PastMigration } from './path-history';
import { forecastDecision, type ForecastDecision } from './strategy-choice';
import { touchedFromResident } from './touched-memory';
import { FORECAST_STRATEGIES, forecastMigrationStrategies } from './strategy-forecast';

const MiB = 1024 * 1024;

/** What the workflow knows that the forecast needs besides the host's facts. */
export const ForecastPlanSchema = z.object({
  source: z.string(),
  destination: z.string(),
  memoryMiB: z.number().positive(),
  /** The request's bandwidth limit (MiB/s), null when none: it holds in pre-copy only. */
  limitMiBps: z.number().positive().nullable(),
  policy: ConvergencePolicySchema,
  postcopyEligible: z.boolean(),
});
export type ForecastPlan = z.infer<typeof ForecastPlanSchema>;

export const StrategyForecastSchema = z.object({
  strategy: z.enum(FORECAST_STRATEGIES),
  allowed: z.boolean(),
  notAllowedBecause: z.string().nullable(),
  completes: z.boolean(),
  totalMs: z.number(),
  downtimeMs: z.number().nullable(),
  bytes: z.number(),
  iterations: z.number(),
  fitsBudget: z.boolean(),
});

export const AutoForecastSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('none'), reason: z.string() }),
  z.object({
    kind: z.literal('forecast'),
    pick: z.enum(FORECAST_STRATEGIES).nullable(),
    pickReason: z.string(),
    budgetMs: z.number(),
    strategies: z.array(StrategyForecastSchema),
    decision: z.object({ reason: z.string(), inputs: z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()])) }),
  }),
]);
export type AutoForecast = z.infer<typeof AutoForecastSchema>;

export interface AutoForecastFacts {
  dirtyBps: number | null;
  workingSetBytes?: number | null;
  residentBytes?: number | null;
  pastMigrations?: readonly PastMigration[];
  sourceLinkMiBps: number | null;
  destinationLinkMiBps: number | null;
}

const AS_CONFIGURED = '-> strategy as configured';

/**
 * `recorded`: the forecast of a run whose activity result carried no forecast (recorded before
 * 2026-12-01): computed with the model those runs used, so that their replay picks as they did.
 */
export function autoForecast(facts: AutoForecastFacts, plan: ForecastPlan, o: { recorded?: boolean } = {}): AutoForecast {
  if (facts.dirtyBps === null) {
    return { kind: 'none', reason: `${plan.source} could not measure the guest's dirty rate (QEMU's dirty-rate calculation) ${AS_CONFIGURED}` };
  }
  // The path: the inventory's link speeds, else the bandwidth fitted from the pair's recent
  // migrations; the request's bandwidth limit holds in pre-copy only (post-copy pulls at the path's
  // speed). No bandwidth known: post-copy assumed no faster than the limit. The fixed costs: the
  // pair's recent migrations', else the lab's (results recorded before have no past migrations).
  const { bandwidth: link, fixed } = pathFromFacts(facts);
  const limitBps = plan.limitMiBps !== null ? plan.limitMiBps * MiB : null;
  const bandwidthBps = link.bps ?? limitBps;
  if (bandwidthBps === null) {
    return {
      kind: 'none',
      reason: `no bandwidth known for ${plan.source} -> ${plan.destination} (no bandwidthMiBps in the request, no linkMiBps for both hosts in the inventory, no completed migrations between them to fit it from) ${AS_CONFIGURED}`,
    };
  }
  const limited = limitBps !== null && limitBps < bandwidthBps ? `, pre-copy limited to ${plan.limitMiBps} MiB/s by the request` : '';
  const detail = link.bps !== null
    ? `${link.detail}${limited}`
    : "the request's bandwidth limit; no link speed in the inventory, so post-copy is assumed no faster";
  const touchedBytes = touchedFromResident(facts.residentBytes, plan.memoryMiB * MiB, facts.workingSetBytes);
  const forecast = forecastMigrationStrategies({
    memoryBytes: plan.memoryMiB * MiB, dirtyBps: facts.dirtyBps, workingSetBytes: facts.workingSetBytes ?? null,
    touchedBytes, bandwidthBps, capBps: limitBps, policy: plan.policy, postcopyEligible: plan.postcopyEligible, timing: fixed.timing,
    ...(o.recorded ? { legacyDirtyCount: true } : {}),
  });
  const decision: ForecastDecision = forecastDecision(forecast, {
    memoryMiB: plan.memoryMiB, dirtyBps: facts.dirtyBps, workingSetBytes: facts.workingSetBytes ?? null,
    touchedBytes, bandwidthBps,
    bandwidthSource: link.bps !== null ? link.source : 'operator', bandwidthDetail: detail,
    ...(fixed.source === 'history' ? { fixedCosts: fixed } : {}),
  });
  return { kind: 'forecast', ...forecast, decision };
}

/** The activity's result: the facts, and with a plan, the forecast from them. */
export function withAutoForecast<F extends AutoForecastFacts>(facts: F, plan: z.input<typeof ForecastPlanSchema> | undefined): F & { auto?: AutoForecast } {
  return plan ? { ...facts, auto: autoForecast(facts, ForecastPlanSchema.parse(plan)) } : facts;
}
