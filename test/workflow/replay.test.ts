/**
 * Determinism guard: histories recorded from real lab migrations (test/fixtures/histories/, made
 * with test/workflow/support/record-history.ts) replay against today's workflow code. A change
 * that would break the migrations running while a new worker is rolled out (different commands,
 * different order) fails here instead of in production.
 *
 * To add one: run a migration in the lab, then
 *   npx tsx test/workflow/support/record-history.ts migrate-<uuid> test/fixtures/histories/<name>.json
 */
import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { beforeAll, describe, expect, it } from 'vitest';
import { LIVE_MIGRATION_PATCHES, PATCHES_DECIDED_UP_FRONT } from '../../workflows/patches';
import { WORKFLOWS_PATH } from './support/workflow-env';

const HISTORIES = path.resolve(__dirname, '../fixtures/histories');

interface RecordedHistory {
  events: {
    eventType: string;
    workflowExecutionStartedEventAttributes?: { workflowId?: string };
    activityTaskScheduledEventAttributes?: { activityType?: { name?: string } };
  }[];
}

const files = fs.readdirSync(HISTORIES).filter((f) => f.endsWith('.json')).sort();
const load = (file: string) => JSON.parse(fs.readFileSync(path.join(HISTORIES, file), 'utf8')) as RecordedHistory;

/** The outcome a recorded migration ended with (its completion event's result). */
function recordedOutcome(h: RecordedHistory): string | undefined {
  const done = h.events.find((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED') as
    | { workflowExecutionCompletedEventAttributes: { result: { payloads: { data: string }[] } } }
    | undefined;
  const data = done?.workflowExecutionCompletedEventAttributes.result.payloads[0]?.data;
  return data ? (JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { outcome: string }).outcome : undefined;
}

/**
 * The recorded workflow id: the replayer does not take it from the history, and the workflow
 * refuses to run under any id but migrate-<vm uuid>, so replaying without it fails at the check.
 */
function workflowIdOf(h: RecordedHistory): string {
  const id = h.events[0]?.workflowExecutionStartedEventAttributes?.workflowId;
  if (!id) throw new Error('the history has no WorkflowExecutionStarted event with a workflowId');
  return id;
}

let bundle: WorkflowBundle;
beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('ERROR') });
});

/** The patch ids a history's core_patch markers name, in order. */
function patchIdsOf(f: string): string[] {
  return load(f).events.flatMap((e) => {
    const m = (e as { markerRecordedEventAttributes?: { markerName?: string; details?: Record<string, { payloads?: { data: string }[] }> } })
      .markerRecordedEventAttributes;
    const data = m?.markerName === 'core_patch' ? m.details?.['patch-data']?.payloads?.[0]?.data : undefined;
    return data ? [(JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { id: string }).id] : [];
  });
}

describe('recorded lab histories replay deterministically', () => {
  it('covers completed pre-copy, completed post-copy, operator rollback and controller abort', () => {
    const outcomes = files.map((f) => `${f}: ${recordedOutcome(load(f))}`);
    expect(outcomes).toEqual(expect.arrayContaining([
      'precopy-completed.json: completed',
      'postcopy-completed.json: completed',
      'precopy-rolled-back.json: rolled_back',
      'precopy-aborted-budget.json: aborted',
    ]));
  });

  it('covers both sides of the situation-table-v2 patch: histories recorded before it and after it', () => {
    const marker = (f: string) => load(f).events.some((e) => e.eventType === 'EVENT_TYPE_MARKER_RECORDED');
    // Histories recorded after later patches carry the table's marker too: only the four oldest are "before".
    const before = files.filter((f) => !f.startsWith('house-') && !f.startsWith('id-check-') && !f.startsWith('stall-alongside-') && !f.startsWith('xml-out-of-history-') && !f.startsWith('drain-') && !f.startsWith('admission-') && !f.startsWith('block-migration-') && !f.startsWith('storage-plan-') && !f.startsWith('strategy-auto-') && !f.startsWith('up-front-'));
    const after = files.filter((f) => f.startsWith('house-'));
    expect(before.length).toBeGreaterThanOrEqual(4);
    expect(before.filter(marker)).toEqual([]);
    expect(after.filter(marker).length).toBeGreaterThanOrEqual(2);
  });

  it('covers both sides of the refuse-malformed-workflow-id patch: a malformed id refused after the source check, and at once', () => {
    const patches = patchIdsOf;
    const activities = (f: string) => load(f).events.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
    for (const f of ['id-check-before-malformed-id.json', 'id-check-after-malformed-id.json']) {
      expect(workflowIdOf(load(f))).toBe('migrate-1234-not-a-uuid');
      expect(load(f).events.at(-1)!.eventType).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_FAILED');
    }
    expect(patches('id-check-before-malformed-id.json')).toEqual([]);
    expect(activities('id-check-before-malformed-id.json')).toEqual(['checkSource']);
    expect(patches('id-check-after-malformed-id.json')).toEqual(['refuse-malformed-workflow-id']);
    expect(activities('id-check-after-malformed-id.json')).toEqual([]);
  });

  it("has a history recorded under this stop's patches: quick reads local, admission shared, bookkeeping alongside the finish, vPMEM by migration id", () => {
    const f = 'admission-local-reads-precopy-completed.json';
    const patchIds = patchIdsOf(f);
    expect(patchIds).toEqual(expect.arrayContaining(['local-quick-reads', 'admission-shared', 'finish-bookkeeping-alongside', 'vpmem-assignment-by-migration-id']));
    // The quick reads ran as local activities: none of them is scheduled as a regular one.
    const scheduled = load(f).events.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
    for (const quick of ['checkSource', 'chooseDestinationHost', 'checkDestination', 'prepareDestination']) expect(scheduled).not.toContain(quick);
    expect(scheduled).toContain('migrationsInFlight');
  });

  it('has histories recorded under the storage patches: a block migration of a local disk and a shared disk vouched for', () => {
    const scheduled = (f: string) => load(f).events.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
    const local = 'block-migration-local-disk-completed.json';
    expect(patchIdsOf(local)).toEqual(expect.arrayContaining(['storage-plan', 'block-migration']));
    const order = scheduled(local);
    expect(order.indexOf('checkStorage')).toBeLessThan(order.indexOf('claim'));
    expect(order.indexOf('createDestinationVolumes')).toBeGreaterThan(order.indexOf('claim'));
    expect(order.indexOf('createDestinationVolumes')).toBeLessThan(order.indexOf('startMigration'));
    const shared = 'storage-plan-shared-disk-completed.json';
    expect(patchIdsOf(shared)).toContain('storage-plan');
    expect(scheduled(shared)).toContain('checkStorage');
    expect(scheduled(shared)).not.toContain('createDestinationVolumes');
  });

  it("has a history recorded under strategy-auto: the forecast measured after admission, before the claim, and post-copy after the first pass as it picked", () => {
    const f = 'strategy-auto-postcopy-after-first-pass-completed.json';
    expect(patchIdsOf(f)).toContain('strategy-auto');
    const order = load(f).events.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
    expect(order.indexOf('gatherForecastFacts')).toBeGreaterThan(order.indexOf('migrationsInFlight'));
    expect(order.indexOf('gatherForecastFacts')).toBeLessThan(order.indexOf('claim'));
    expect(recordedOutcome(load(f))).toBe('completed');
  });

  it('has a history recorded under patches-decided-up-front: every patch marker in the first workflow task, the forecast in the activity result', () => {
    const f = 'up-front-auto-postcopy-after-first-pass-completed.json';
    const events = load(f).events as Array<RecordedHistory['events'][number] & { eventId: string }>;
    expect(patchIdsOf(f)).toEqual([PATCHES_DECIDED_UP_FRONT, ...LIVE_MIGRATION_PATCHES]);
    const completions = events.filter((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED').map((e) => Number(e.eventId));
    const markers = events.filter((e) => JSON.stringify(e).includes('"core_patch"')).map((e) => Number(e.eventId));
    expect(Math.min(...markers)).toBeGreaterThan(completions[0]!);
    expect(Math.max(...markers)).toBeLessThan(completions[1]!);
    // The pick is in the history (the activity's result), not only in the workflow's memory.
    const payloads = [...JSON.stringify(load(f)).matchAll(/"data":\s*"([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8'));
    expect(payloads.some((p) => p.includes('"kind":"forecast"') && p.includes('"pick":"postcopy-after-first-pass"'))).toBe(true);
    expect(recordedOutcome(load(f))).toBe('completed');
  });

  it('covers both sides of the finish-stall-alongside patch: the stall read after the finish, and scheduled before it', () => {
    const activities = (f: string) => load(f).events.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
    const patchIds = (f: string) => JSON.stringify(load(f)).includes(Buffer.from('{"id":"finish-stall-alongside"').toString('base64').slice(0, 40));
    const older = activities('house-precopy-completed.json'); // recorded before finishOnHosts: finishMigration did both
    expect(older.indexOf('finishMigration')).toBeGreaterThanOrEqual(0);
    expect(older.indexOf('guestStallSince')).toBeGreaterThan(older.indexOf('finishMigration'));
    expect(patchIds('house-precopy-completed.json')).toBe(false);
    const newer = activities('stall-alongside-precopy-completed.json');
    expect(newer.indexOf('guestStallSince')).toBeGreaterThanOrEqual(0);
    expect(newer.indexOf('guestStallSince')).toBeLessThan(newer.indexOf('finishOnHosts'));
    expect(patchIds('stall-alongside-precopy-completed.json')).toBe(true);
  });

  it('covers the drain: a DrainHost run with a retry, and a child migration whose claim took the drain\'s reservation over', () => {
    const drain = load('drain-host-partial-with-retry.json');
    expect(workflowIdOf(drain)).toBe('drain-host-c');
    const children = drain.events.filter((e) => e.eventType === 'EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED');
    expect(children).toHaveLength(3); // web-1, then flaky on host-a (failed) and on host-b
    const child = load('drain-child-reservation-precopy-completed.json');
    const payloads = [...JSON.stringify(child).matchAll(/"data":\s*"([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8'));
    expect(payloads.some((p) => p.includes('"id":"claim-takes-over-reservation"'))).toBe(true);
    expect(payloads.some((p) => /"reservationId":"[0-9a-f-]{36}"/.test(p))).toBe(true);
  });

  it('histories recorded with dest-xml-out-of-history hold no domain XML in any payload', () => {
    const decoded = (f: string) => [...JSON.stringify(load(f)).matchAll(/"data":\s*"([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8'));
    for (const f of ['xml-out-of-history-precopy-completed.json', 'xml-out-of-history-postcopy-completed.json']) {
      const payloads = decoded(f);
      expect(payloads.some((p) => p.includes('"id":"dest-xml-out-of-history"'))).toBe(true);
      expect(payloads.filter((p) => p.includes('<domain'))).toEqual([]);
    }
    // The scan does read payloads: an older lab history carries the XML in them.
    expect(decoded('house-precopy-completed.json').some((p) => p.includes('<domain'))).toBe(true);
  });

  it.each(files)('%s', async (file) => {
    const recorded = load(file);
    const history = historyFromJSON(recorded); // the proto-JSON form the replayer reads
    await Worker.runReplayHistory({ workflowBundle: bundle, replayName: file }, history, workflowIdOf(recorded));
  });

  it('a history the code would not produce fails replay (the guard can fail)', async () => {
    // Pretend the recorded run scheduled checkDestination first: today's code schedules checkSource.
    const tampered = load('precopy-completed.json');
    const first = tampered.events.find((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED')!;
    expect(first.activityTaskScheduledEventAttributes!.activityType!.name).toBe('checkSource');
    first.activityTaskScheduledEventAttributes!.activityType!.name = 'checkDestination';
    await expect(
      Worker.runReplayHistory({ workflowBundle: bundle, replayName: 'tampered' }, historyFromJSON(tampered), workflowIdOf(tampered)),
    ).rejects.toBeInstanceOf(DeterminismViolationError);
  });
});
