/**
 * The forecastMigration workflow's input and result, and its one activity's (the facts only a host
 * can give: the guest's dirty rate and the inventory's link speeds). zod at the boundaries.
 */
import { z } from 'zod';
import { ConvergencePolicySchema } from '../convergence-policy';
import { AutoForecastSchema, ForecastPlanSchema, StrategyForecastSchema } from './auto-forecast';
import { PastMigrationSchema } from './path-history';
import { FORECAST_STRATEGIES } from './strategy-forecast';

export const ForecastRequestSchema = z.strictObject({
  vm: z.string('expected the VM name or UUID').min(1, 'expected the VM name or UUID'),
  /** A host the operator names; absent: the host Placement would choose. */
  to: z.string().min(1, 'expected a host name').optional(),
  bandwidthMiBps: z.number('expected a number of MiB/s').positive('expected a bandwidth above 0 MiB/s').max(1_000_000, 'expected at most 1000000 MiB/s').optional(),
  policy: ConvergencePolicySchema.partial().optional(),
});
export type ForecastRequestInput = z.input<typeof ForecastRequestSchema>;

export const ForecastFactsInputSchema = z.object({
  vmUuid: z.string().uuid(), source: z.string(), destination: z.string(),
  /** `strategy: auto`: the migration's side of the forecast; the result then carries the forecast (auto-forecast.ts). */
  plan: ForecastPlanSchema.optional(),
});
export type ForecastFactsInput = z.input<typeof ForecastFactsInputSchema>;
export const ForecastFactsSchema = z.object({
  /** Bytes/s QEMU measured (page sampling); null when it could not. */
  dirtyBps: z.number().nonnegative().nullable(),
  /** How much memory the guest's writes cover (bytes), when something knows (the simulated fleet); libvirt does not say. */
  workingSetBytes: z.number().positive().nullable().optional(),
  /** How the sampling was read (a working set, spreading writes, quiet...), for the audit. */
  dirtyEstimate: z.string().optional(),
  sourceLinkMiBps: z.number().positive().nullable(),
  destinationLinkMiBps: z.number().positive().nullable(),
  /**
   * QEMU's resident set on the source (bytes): the guest RAM ever touched plus QEMU's own memory,
   * so an upper bound of the RAM that holds data (the rest migrates as zero pages). null: not reported.
   */
  residentBytes: z.number().positive().nullable().optional(),
  /**
   * The most recent completed migrations between the two hosts, as visibility lists them: what the
   * path's fixed costs (and, lacking a link speed, its bandwidth) are learned from (path-history.ts).
   * Absent (results recorded before, the simulated fleet): the lab's timings.
   */
  pastMigrations: z.array(PastMigrationSchema).optional(),
  /** Given a plan: the forecast from these facts, recorded in the history with them. */
  auto: AutoForecastSchema.optional(),
});
export type ForecastFacts = z.infer<typeof ForecastFactsSchema>;

export { StrategyForecastSchema };

export const ForecastResultSchema = z.object({
  vm: z.object({ name: z.string(), uuid: z.string(), memoryMiB: z.number() }),
  source: z.string(),
  destination: z.string(),
  dirtyBps: z.number(),
  /** null: unknown, the forecast assumed all of RAM. */
  workingSetBytes: z.number().nullable(),
  /** How the sampling was read (rounds, working set or spreading). */
  dirtyEstimate: z.string().optional(),
  /** RAM taken to hold data (QEMU's resident set, at most the RAM); null: unknown, all of RAM. */
  touchedBytes: z.number().nullable().optional(),
  bandwidth: z.object({ bps: z.number(), source: z.enum(['operator', 'inventory', 'history']), detail: z.string() }),
  postcopyEligible: z.boolean(),
  /** Setup + finish the forecast assumed (ms), and where they come from. */
  fixedCosts: z.object({ ms: z.number(), source: z.enum(['lab-default', 'history']), detail: z.string() }).optional(),
  budgetMs: z.number(),
  strategies: z.array(StrategyForecastSchema),
  pick: z.enum(FORECAST_STRATEGIES).nullable(),
  pickReason: z.string(),
});
export type ForecastResult = z.infer<typeof ForecastResultSchema>;
