/** A workflow's history as the step split needs it: start, close, and each activity's span. */
import type { WorkflowHandle } from '@temporalio/client';
import type { WorkflowTimes } from './steps';

type Ts = { seconds?: { toNumber(): number } | number | null; nanos?: number | null } | null | undefined;

function ms(t: Ts): number {
  if (!t) return NaN;
  const s = typeof t.seconds === 'number' ? t.seconds : (t.seconds?.toNumber() ?? 0);
  return s * 1000 + (t.nanos ?? 0) / 1e6;
}

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

/** The activity type of a local activity's marker (core's marker 'core_local_activity'), else null. */
function localActivityType(e: HistoryEvent): string | null {
  const m = e.markerRecordedEventAttributes;
  if (m?.markerName !== 'core_local_activity') return null;
  const data = m.details?.data?.payloads?.[0]?.data;
  if (!data) return null;
  try {
    return (JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type?: string }).activity_type ?? null;
  } catch {
    return null;
  }
}

export async function workflowTimes(handle: WorkflowHandle): Promise<WorkflowTimes> {
  return timesOf((await handle.fetchHistory()).events ?? []);
}

/** PURE: the times of a workflow's history events. */
export function timesOf(events: readonly HistoryEvent[]): WorkflowTimes {
  const scheduled = new Map<string, { type: string; at: number }>();
  const activities: WorkflowTimes['activities'] = [];
  let startedMs = NaN;
  let closedMs = NaN;
  const first = { scheduledMs: 0, startedMs: 0, completedMs: 0 };
  for (const e of events) {
    const at = ms(e.eventTime as Ts);
    const id = String(e.eventId);
    if (e.workflowExecutionStartedEventAttributes) startedMs = at;
    if (e.workflowTaskScheduledEventAttributes && !first.scheduledMs) first.scheduledMs = at;
    if (e.workflowTaskStartedEventAttributes && !first.startedMs) first.startedMs = at;
    if (e.workflowTaskCompletedEventAttributes && !first.completedMs) first.completedMs = at;
    if (e.workflowExecutionCompletedEventAttributes || e.workflowExecutionFailedEventAttributes) closedMs = at;
    const s = e.activityTaskScheduledEventAttributes;
    if (s) scheduled.set(id, { type: s.activityType?.name ?? '?', at });
    // A local activity (the workflow's quick reads) leaves a marker when the workflow task that ran
    // it completes: that is when the workflow went on, so its end for the step split.
    const local = localActivityType(e);
    if (local) activities.push({ activityType: local, scheduledMs: at, endedMs: at, local: true });
    const ended = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
    if (ended) {
      const from = scheduled.get(String(ended.scheduledEventId));
      if (from) activities.push({ activityType: from.type, scheduledMs: from.at, endedMs: at });
    }
  }
  return { startedMs, closedMs, activities, ...(first.completedMs ? { firstTask: first } : {}) };
}
