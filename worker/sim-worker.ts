/**
 * A worker on a simulated fleet (activities/sim/): the real workflows, with activities that play
 * hosts, QEMU and Placement in memory. For scale benches (bench/scale) and what-if runs; it never
 * talks to libvirt or Placement. `ferry worker --sim <spec.json>` runs one; bench/scale forks one.
 *
 * Tuning (all optional, Temporal's worker options of the same names; the SDK's defaults otherwise):
 * - maxCachedWorkflows: workflows kept in memory between tasks (each sim migration is a long-lived
 *   workflow: below the number in flight, the worker replays histories to rebuild evicted ones);
 * - maxConcurrentWorkflowTaskExecutions: workflow tasks at once (CPU-bound: ~the cores);
 * - maxConcurrentActivityTaskExecutions: activities at once (each running migration holds one
 *   watch most of the time, so this caps how many migrations progress at once);
 * - maxConcurrentLocalActivityExecutions: the workflows' quick local reads.
 */
import fs from 'node:fs';
import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { z } from 'zod';
import { createSimActivities } from '../activities/sim/activities';
import { SimFleet } from '../activities/sim/fleet';
import { SimFleetSpecSchema, type SimFleetSpec } from '../model/sim/fleet-spec';
import { bundleAtStart } from './bundle-at-start';
import { prebuiltWorkflowBundle } from './workflow-bundle';

export const SimWorkerTuningSchema = z.strictObject({
  maxCachedWorkflows: z.number().int().min(0).optional(),
  maxConcurrentWorkflowTaskExecutions: z.number().int().min(1).optional(),
  maxConcurrentActivityTaskExecutions: z.number().int().min(1).optional(),
  maxConcurrentLocalActivityExecutions: z.number().int().min(1).optional(),
});
export type SimWorkerTuning = z.infer<typeof SimWorkerTuningSchema>;

/** A fleet spec file: JSON, checked; an error names the file and the field. */
export function loadSimFleetSpec(file: string): SimFleetSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`sim fleet spec ${file}: ${(err as Error).message}`);
  }
  const parsed = SimFleetSpecSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`sim fleet spec ${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

export interface SimWorkerSetup {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  spec: SimFleetSpec;
  tuning?: SimWorkerTuning;
  /** A prebuilt bundle (tests reuse one); default: the build's when fresh, else bundled now. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

export async function createSimWorker(setup: SimWorkerSetup): Promise<{ worker: Worker; fleet: SimFleet }> {
  const fleet = new SimFleet(setup.spec);
  const bundle = setup.workflowBundle ?? prebuiltWorkflowBundle() ?? (await bundleAtStart(require.resolve('../workflows'), Runtime.instance().logger));
  const worker = await Worker.create({
    connection: setup.connection,
    namespace: setup.namespace,
    taskQueue: setup.taskQueue,
    activities: createSimActivities(fleet),
    workflowBundle: bundle,
    shutdownGraceTime: '5 seconds',
    ...setup.tuning,
  });
  return { worker, fleet };
}
