import { z } from 'zod';

/** The worker's configuration, from the environment, validated once at start. */
export const WorkerConfigSchema = z.object({
  FERRY_TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  FERRY_TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  FERRY_TASK_QUEUE: z.string().min(1).default('ferry'),
  /** TLS to the Temporal frontend (mTLS when cert and key are given). */
  FERRY_TEMPORAL_TLS: z.enum(['0', '1']).default('0'),
  FERRY_TEMPORAL_TLS_CA: z.string().optional(),
  FERRY_TEMPORAL_TLS_CERT: z.string().optional(),
  FERRY_TEMPORAL_TLS_KEY: z.string().optional(),
  /** JSON host inventory (activities/hosts.ts); absent: the embedded lab's hosts. */
  FERRY_HOSTS_FILE: z.string().optional(),
  /** Placement endpoint; absent: the embedded lab's. */
  FERRY_PLACEMENT_URL: z.string().url().optional(),
  FERRY_PLACEMENT_TOKEN: z.string().default('admin'),
});
export type WorkerConfig = z.infer<typeof WorkerConfigSchema>;

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const known = Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('FERRY_')));
  const parsed = WorkerConfigSchema.safeParse(known);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid worker configuration: ${issues}`);
  }
  const c = parsed.data;
  if ((c.FERRY_TEMPORAL_TLS_CERT === undefined) !== (c.FERRY_TEMPORAL_TLS_KEY === undefined)) {
    throw new Error('invalid worker configuration: FERRY_TEMPORAL_TLS_CERT and FERRY_TEMPORAL_TLS_KEY go together');
  }
  return c;
}
