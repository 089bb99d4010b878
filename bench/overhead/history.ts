/** A workflow's history as the step split needs it: start, close, and each activity's span. */
import type { WorkflowHandle } from '@temporalio/client';
import type { WorkflowTimes } from './steps';

type Ts = { seconds?: { toNumber(): number } | number | null; nanos?: number | null } | null | undefined;

function ms(t: Ts): number {
  if (!t) return NaN;
  const s = typeof t.seconds === 'number' ? t.seconds : (t.seconds?.toNumber() ?? 0);
  return s * 1000 + (t.nanos ?? 0) / 1e6;
}

export async function workflowTimes(handle: WorkflowHandle): Promise<WorkflowTimes> {
  const history = await handle.fetchHistory();
  const events = history.events ?? [];
  const scheduled = new Map<string, { type: string; at: number }>();
  const activities: WorkflowTimes['activities'] = [];
  let startedMs = NaN;
  let closedMs = NaN;
  for (const e of events) {
    const at = ms(e.eventTime as Ts);
    const id = String(e.eventId);
    if (e.workflowExecutionStartedEventAttributes) startedMs = at;
    if (e.workflowExecutionCompletedEventAttributes || e.workflowExecutionFailedEventAttributes) closedMs = at;
    const s = e.activityTaskScheduledEventAttributes;
    if (s) scheduled.set(id, { type: s.activityType?.name ?? '?', at });
    const ended = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
    if (ended) {
      const from = scheduled.get(String(ended.scheduledEventId));
      if (from) activities.push({ activityType: from.type, scheduledMs: from.at, endedMs: at });
    }
  }
  return { startedMs, closedMs, activities };
}
