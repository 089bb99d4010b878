/**
 * PURE: where the time of one migration workflow went, from its history: each step spans from the
 * end of the step before it (the workflow's start for the first) to the completion of its last
 * activity, so workflow-task latency between steps is charged to the step that waited for it and
 * the steps add up to the workflow's whole time.
 */

export const STEP_OF_ACTIVITY: Record<string, Step> = {
  checkSource: 'pre-checks',
  chooseDestinationHost: 'pre-checks',
  checkDestination: 'pre-checks',
  // Admission's visibility read comes right after the pre-checks (workflows/steps/admission.ts).
  migrationsInFlight: 'pre-checks',
  claim: 'claim',
  prepareDestination: 'prepare',
  guestStallMark: 'watch',
  startMigration: 'watch',
  watchMigration: 'watch',
  applyAction: 'watch',
  finishOnHosts: 'finish',
  finishMigration: 'finish',
  dropMigrationClaim: 'finish',
  // The lab guest's own stall meter: a measurement, kept apart so its cost is visible.
  guestStallSince: 'lab-meter',
};

export const STEPS = ['pre-checks', 'claim', 'prepare', 'watch', 'finish', 'lab-meter', 'close'] as const;
export type Step = (typeof STEPS)[number];

export interface ActivitySpan {
  activityType: string;
  scheduledMs: number;
  endedMs: number;
  /** A local activity: its span is the moment its workflow task completed. */
  local?: boolean;
}

export interface WorkflowTimes {
  startedMs: number;
  closedMs: number;
  activities: ActivitySpan[];
  /** The first workflow task: scheduled, picked up by a worker, completed (absent in hand-made histories). */
  firstTask?: { scheduledMs: number; startedMs: number; completedMs: number };
}

/** Milliseconds per step; 'close' is from the last activity to the workflow's completion. */
export function splitBySteps(w: WorkflowTimes): Record<Step, number> {
  const out = Object.fromEntries(STEPS.map((s) => [s, 0])) as Record<Step, number>;
  const lastEnd = new Map<Step, number>();
  for (const a of w.activities) {
    const step = STEP_OF_ACTIVITY[a.activityType];
    if (!step) throw new Error(`activity ${a.activityType} belongs to no step (bench/overhead/steps.ts)`);
    lastEnd.set(step, Math.max(lastEnd.get(step) ?? -Infinity, a.endedMs));
  }
  let prev = w.startedMs;
  for (const step of STEPS) {
    if (step === 'close') continue;
    const end = lastEnd.get(step);
    if (end === undefined) continue;
    out[step] = Math.max(0, end - prev);
    prev = Math.max(prev, end);
  }
  out.close = Math.max(0, w.closedMs - prev);
  return out;
}
