/**
 * What orchestration costs on a migration's critical path (issue 8 §3): the quick read-only steps
 * run as local activities, inside the workflow task (no trip through the server's task queues),
 * and the Placement bookkeeping of the finish runs alongside the finish on the hosts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { temporal } from '@temporalio/proto';
import { isRefusal, rootFailure } from '../../client/outcome-format';
import { endedOnDestination, fakeActivities, precopy } from './support/fake-activities';
import { startWorkflowTestContext, withWorker, type WorkflowTestContext } from './support/workflow-env';

let ctx: WorkflowTestContext;
beforeAll(async () => { ctx = await startWorkflowTestContext(); });
afterAll(async () => { await ctx?.env.teardown(); });

const REQUEST = { vm: 'web-7', destination: 'host-a' };
const QUICK_READS = ['checkSource', 'chooseDestinationHost', 'checkDestination', 'prepareDestination', 'guestStallMark'];

type Event = temporal.api.history.v1.IHistoryEvent;

/** The activity types a history ran as local activities (their markers), in order. */
function localActivityTypes(events: Event[]): string[] {
  return events.flatMap((e) => {
    const m = e.markerRecordedEventAttributes;
    if (m?.markerName !== 'core_local_activity') return [];
    const data = m.details?.data?.payloads?.[0]?.data;
    return data ? [(JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type: string }).activity_type] : [];
  });
}

const scheduledTypes = (events: Event[]) =>
  events.flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType?.name ?? '?'] : []));

describe('the quick reads are local activities', () => {
  it('pre-checks, prepare and the meter mark leave markers, not activity tasks; everything with effects stays a regular activity', async () => {
    const fake = fakeActivities({ samples: [precopy(1, 100), endedOnDestination()] });
    const { outcome, events } = await withWorker(ctx, fake, async (start) => {
      const run = await start(REQUEST);
      const outcome = await run.handle.result();
      return { outcome, events: (await run.handle.fetchHistory()).events ?? [] };
    });
    expect(outcome.outcome).toBe('completed');
    expect(localActivityTypes(events)).toEqual(QUICK_READS);
    const regular = scheduledTypes(events);
    for (const read of QUICK_READS) expect(regular).not.toContain(read);
    expect(regular).toEqual(expect.arrayContaining(['claim', 'startMigration', 'watchMigration', 'finishOnHosts', 'dropMigrationClaim', 'guestStallSince']));
    // The three pre-check reads ran in one workflow task: no task completed between their markers.
    const markers = events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity');
    const first = Number(markers[0]!.eventId);
    const third = Number(markers[2]!.eventId);
    const between = events.filter((e) => Number(e.eventId) > first && Number(e.eventId) < third);
    expect(between.filter((e) => e.workflowTaskCompletedEventAttributes)).toEqual([]);
  }, 60_000);

  it("a refusal of a local pre-check fails the migration as before: refused, naming why; nothing claimed", async () => {
    const fake = fakeActivities({
      samples: [],
      overrides: {
        checkDestination: async () => {
          const { ApplicationFailure } = await import('@temporalio/activity');
          throw ApplicationFailure.nonRetryable('destination QEMU 7.0 is older than the source\'s 7.2: migrate to a host at least as new', 'Refused');
        },
      },
    });
    const err = await withWorker(ctx, fake, async (start) => (await start(REQUEST)).handle.result().then(() => undefined, (e: unknown) => e));
    expect(isRefusal(err)).toBe(true);
    expect(rootFailure(err)).toMatchObject({ type: 'Refused', message: expect.stringContaining('older than the source') });
    expect(fake.count('checkDestination')).toBe(1); // non-retryable: one attempt
    expect(fake.count('claim')).toBe(0);
  }, 60_000);
});

describe('a local activity held for a while (as the fault matrix gate holds one)', () => {
  it('heartbeating in it (a no-op for a local activity) neither fails it nor the migration; a hold longer than a workflow task timeout is fine', async () => {
    const { heartbeat } = await import('@temporalio/activity');
    const fake = fakeActivities({
      samples: [precopy(1, 100), endedOnDestination()],
      overrides: {
        checkDestination: async () => {
          for (let i = 0; i < 12; i++) {
            heartbeat({ held: i });
            await new Promise((r) => setTimeout(r, 1_000));
          }
          return { checks: [{ check: 'cpu', ok: true, detail: 'compatible' }], postcopySupported: false };
        },
      },
    });
    const outcome = await withWorker(ctx, fake, async (start) => (await start(REQUEST)).handle.result());
    expect(outcome.outcome).toBe('completed');
    expect(fake.count('checkDestination')).toBe(1);
  }, 90_000);
});

describe('the finish bookkeeping is off the critical path', () => {
  it('drops the migration consumer alongside the finish on the hosts: the two activities overlap in time', async () => {
    const span: Record<string, [number, number]> = {};
    const timed = async <T>(name: string, value: T): Promise<T> => {
      const t0 = Date.now();
      await new Promise((r) => setTimeout(r, 1_000));
      span[name] = [t0, Date.now()];
      return value;
    };
    const fake = fakeActivities({
      samples: [precopy(1, 100), endedOnDestination()],
      overrides: {
        finishOnHosts: async () => timed('finish', {
          stats: { downtimeMs: 10, totalMs: 100, bytes: 1, iterations: 1, postcopyRequests: null },
          hosts: { source: 'none', destination: 'running (Migrated)' },
        }),
        dropMigrationClaim: async () => timed('drop', true),
      },
    });
    const outcome = await withWorker(ctx, fake, async (start) => (await start(REQUEST)).handle.result());
    expect(outcome.outcome).toBe('completed');
    const [f0, f1] = span.finish!;
    const [d0, d1] = span.drop!;
    expect(d0 < f1 && f0 < d1).toBe(true); // in sequence, one would start after the other ended
  }, 60_000);
});
