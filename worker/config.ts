import { z } from 'zod';
import { unknownFerryVariables } from '../config/ferry-env';
import { temporalSettingsOrProblems, type TemporalSettings } from '../config/temporal-env';
import { parseMetricsAddress } from './metrics/address';
import { placementAuthProblems } from './placement-auth';
import { parseTracingSetting, type TracingSetting } from './tracing/setting';

/**
 * ferry's own settings of the worker (config/ferry-env.ts lists them all), validated once at start.
 * Temporal's connection is not among them: it is Temporal's configuration (TEMPORAL_* and
 * profile, config/temporal-env.ts), shared with the `temporal` CLI.
 */
export const WorkerSettingsSchema = z.object({
  FERRY_TASK_QUEUE: z.string().trim().min(1, 'is set but empty').default('ferry'),
  /** JSON host inventory (activities/hosts.ts); absent: the embedded lab's hosts. */
  FERRY_HOSTS_FILE: z.string().min(1, 'is set but empty').optional(),
  /** Placement endpoint; absent: the embedded lab's. */
  FERRY_PLACEMENT_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as http://placement.example:8778' }).optional(),
  /** A fixed X-Auth-Token for Placement; absent and no Keystone: "admin" (the lab's noauth2). */
  FERRY_PLACEMENT_TOKEN: z.string().min(1, 'is set but empty').optional(),
  /** A Placement behind Keystone: tokens from an application credential (placement-auth.ts). */
  FERRY_KEYSTONE_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://keystone.example:5000/v3' }).optional(),
  FERRY_KEYSTONE_APP_CRED_ID: z.string().trim().min(1, 'is set but empty').optional(),
  FERRY_KEYSTONE_APP_CRED_SECRET: z.string().min(1, 'is set but empty').optional(),
  /** The secret in a file instead (a mounted secret), so it is not in the environment. */
  FERRY_KEYSTONE_APP_CRED_SECRET_FILE: z.string().min(1, 'is set but empty').optional(),
  FERRY_LOG_LEVEL: z
    .string()
    .transform((v) => v.trim().toUpperCase())
    .pipe(z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'], { error: 'must be one of TRACE, DEBUG, INFO, WARN, ERROR' }))
    .default('INFO'),
  /** Where spans go (tracing/setting.ts); absent: off. */
  FERRY_TRACING: z
    .string()
    .optional()
    .transform((v, ctx): TracingSetting => {
      const t = parseTracingSetting(v);
      if ('problem' in t) {
        ctx.addIssue({ code: 'custom', message: t.problem });
        return z.NEVER;
      }
      return t;
    }),
  /** The Prometheus endpoint: IP:PORT or 'off' (metrics/address.ts); absent: its default. */
  FERRY_METRICS_ADDRESS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const a = parseMetricsAddress(v);
      if ('problem' in a) {
        ctx.addIssue({ code: 'custom', message: a.problem });
        return z.NEVER;
      }
      return 'off' in a ? undefined : a.bindAddress;
    }),
});
export type WorkerSettings = z.infer<typeof WorkerSettingsSchema>;

export type WorkerConfig = WorkerSettings & { temporal: TemporalSettings };

/** The worker's configuration; every problem found (unknown FERRY_* variable included) in one error. */
export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const problems = unknownFerryVariables(env);
  const ferryOwn = Object.fromEntries(Object.keys(WorkerSettingsSchema.shape).filter((k) => env[k] !== undefined).map((k) => [k, env[k]]));
  const parsed = WorkerSettingsSchema.safeParse(ferryOwn);
  if (!parsed.success) problems.push(...parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`));
  if (parsed.success) problems.push(...placementAuthProblems(parsed.data));
  const temporal = temporalSettingsOrProblems(env, problems);
  if (problems.length > 0 || !parsed.success || temporal === undefined) {
    throw new Error(`invalid worker configuration: ${problems.join('; ')}`);
  }
  return { ...parsed.data, temporal };
}
