/**
 * The forecastMigration workflow's input and result, and its one activity's (the facts only a host
 * can give: the guest's dirty rate and the inventory's link speeds). zod at the boundaries.
 */
import { z } from 'zod';
import { ConvergencePolicySchema } from '../convergence-policy';
import { FORECAST_STRATEGIES } from './strategy-forecast';

export const ForecastRequestSchema = z.strictObject({
  vm: z.string('expected the VM name or UUID').min(1, 'expected the VM name or UUID'),
  /** A host the operator names; absent: the host Placement would choose. */
  to: z.string().min(1, 'expected a host name').optional(),
  bandwidthMiBps: z.number('expected a number of MiB/s').positive('expected a bandwidth above 0 MiB/s').max(1_000_000, 'expected at most 1000000 MiB/s').optional(),
  policy: ConvergencePolicySchema.partial().optional(),
});
export type ForecastRequestInput = z.input<typeof ForecastRequestSchema>;

export const ForecastFactsInputSchema = z.object({ vmUuid: z.string().uuid(), source: z.string(), destination: z.string() });
export type ForecastFactsInput = z.infer<typeof ForecastFactsInputSchema>;
export const ForecastFactsSchema = z.object({
  /** Bytes/s QEMU measured (page sampling); null when it could not. */
  dirtyBps: z.number().nonnegative().nullable(),
  /** How much memory the guest's writes cover (bytes), when something knows (the simulated fleet); libvirt does not say. */
  workingSetBytes: z.number().positive().nullable().optional(),
  sourceLinkMiBps: z.number().positive().nullable(),
  destinationLinkMiBps: z.number().positive().nullable(),
});
export type ForecastFacts = z.infer<typeof ForecastFactsSchema>;

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

export const ForecastResultSchema = z.object({
  vm: z.object({ name: z.string(), uuid: z.string(), memoryMiB: z.number() }),
  source: z.string(),
  destination: z.string(),
  dirtyBps: z.number(),
  /** null: unknown, the forecast assumed all of RAM. */
  workingSetBytes: z.number().nullable(),
  bandwidth: z.object({ bps: z.number(), source: z.enum(['operator', 'inventory', 'last-migration']), detail: z.string() }),
  postcopyEligible: z.boolean(),
  budgetMs: z.number(),
  strategies: z.array(StrategyForecastSchema),
  pick: z.enum(FORECAST_STRATEGIES).nullable(),
  pickReason: z.string(),
});
export type ForecastResult = z.infer<typeof ForecastResultSchema>;
