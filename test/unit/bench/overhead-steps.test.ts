import { describe, expect, it } from 'vitest';
import { timesOf } from '../../../bench/overhead/history';
import { splitBySteps } from '../../../bench/overhead/steps';

const span = (activityType: string, scheduledMs: number, endedMs: number) => ({ activityType, scheduledMs, endedMs });

describe('splitBySteps', () => {
  it('charges each step from the end of the one before to its last activity, so the steps add up to the workflow', () => {
    const s = splitBySteps({
      startedMs: 1_000,
      closedMs: 9_000,
      activities: [
        span('checkSource', 1_010, 1_100), span('chooseDestinationHost', 1_120, 1_200), span('checkDestination', 1_210, 1_400),
        span('claim', 1_450, 1_600),
        span('prepareDestination', 1_650, 1_900),
        span('guestStallMark', 1_950, 1_960), span('startMigration', 1_970, 2_500), span('watchMigration', 2_520, 4_000), span('watchMigration', 4_010, 5_000),
        span('finishOnHosts', 5_050, 5_400), span('dropMigrationClaim', 5_420, 5_500),
        span('guestStallSince', 5_520, 8_900),
      ],
    });
    expect(s).toEqual({ 'pre-checks': 400, claim: 200, prepare: 300, watch: 3_100, finish: 500, 'lab-meter': 3_400, close: 100 });
    expect(Object.values(s).reduce((a, b) => a + b, 0)).toBe(8_000);
  });

  it('leaves a step that did not run at 0 and refuses an activity it does not know', () => {
    const s = splitBySteps({ startedMs: 0, closedMs: 500, activities: [span('checkSource', 10, 100)] });
    expect(s['pre-checks']).toBe(100);
    expect(s.claim).toBe(0);
    expect(s.close).toBe(400);
    expect(() => splitBySteps({ startedMs: 0, closedMs: 1, activities: [span('mystery', 0, 1)] })).toThrow(/mystery belongs to no step/);
  });
});

describe('timesOf: a history as the split needs it', () => {
  const at = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });
  /** A local activity's marker as core records it (seen in a workflow test's history). */
  const marker = (eventId: number, ms: number, activityType: string) => ({
    eventId, eventTime: at(ms),
    markerRecordedEventAttributes: {
      markerName: 'core_local_activity',
      details: { data: { payloads: [{ data: Buffer.from(JSON.stringify({ seq: 1, attempt: 1, activity_id: '1', activity_type: activityType })) }] } },
    },
  });
  it('a local activity ends when the workflow task that ran it completed (its marker); a regular one at its completion; patch markers are no activity', () => {
    const t = timesOf([
      { eventId: 1, eventTime: at(1_000), workflowExecutionStartedEventAttributes: {} },
      { eventId: 5, eventTime: at(1_200), markerRecordedEventAttributes: { markerName: 'core_patch', details: {} } },
      marker(6, 1_200, 'checkSource'), marker(7, 1_200, 'chooseDestinationHost'), marker(8, 1_200, 'checkDestination'),
      { eventId: 9, eventTime: at(1_210), activityTaskScheduledEventAttributes: { activityType: { name: 'claim' } } },
      { eventId: 11, eventTime: at(1_300), activityTaskCompletedEventAttributes: { scheduledEventId: 9 } },
      { eventId: 20, eventTime: at(1_400), workflowExecutionCompletedEventAttributes: {} },
    ] as never);
    expect(t.startedMs).toBe(1_000);
    expect(t.closedMs).toBe(1_400);
    expect(t.activities.map((a) => [a.activityType, a.endedMs])).toEqual([
      ['checkSource', 1_200], ['chooseDestinationHost', 1_200], ['checkDestination', 1_200], ['claim', 1_300],
    ]);
    expect(splitBySteps(t)).toMatchObject({ 'pre-checks': 200, claim: 100, close: 100 });
  });
});
