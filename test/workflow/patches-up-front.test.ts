/**
 * Every LiveMigration patch is decided in the run's first workflow task (workflows/patches.ts), so
 * a query answered while a local activity resolves cannot move a patch marker into another task.
 * Before, the markers were recorded wherever the code first asked; with progress polled, the SDK
 * core could record one a task later than the code asked, and the history then failed replay (the
 * placement-outage test's flake, and a stuck migration in production after a worker restart).
 */
import { Worker } from '@temporalio/worker';
import type { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { progressQuery } from '../../workflows/definitions';
import { LIVE_MIGRATION_PATCHES, PATCHES_DECIDED_UP_FRONT } from '../../workflows/patches';
import { endedOnDestination, fakeActivities, precopy } from './support/fake-activities';
import { startWorkflowTestContext, withWorker, type WorkflowTestContext } from './support/workflow-env';

let ctx: WorkflowTestContext;
beforeAll(async () => { ctx = await startWorkflowTestContext(); });
afterAll(async () => { await ctx?.env.teardown(); });

type Event = temporal.api.history.v1.IHistoryEvent;

/** The patch markers of a history: their ids and the event ids they sit at. */
function patchMarkers(events: Event[]): { id: string; eventId: number }[] {
  return events.flatMap((e) => {
    const m = e.markerRecordedEventAttributes;
    const data = m?.markerName === 'core_patch' ? m.details?.['patch-data']?.payloads?.[0]?.data : undefined;
    return data ? [{ id: (JSON.parse(Buffer.from(data).toString('utf8')) as { id: string }).id, eventId: Number(e.eventId) }] : [];
  });
}

const taskCompletions = (events: Event[]) => events.filter((e) => e.workflowTaskCompletedEventAttributes).map((e) => Number(e.eventId));

describe('patches decided up front', () => {
  it('every patch marker is in the first workflow task, while the progress is polled all along; the history replays', async () => {
    const fake = fakeActivities({ samples: [precopy(1, 100), precopy(2, 60), precopy(3, 20), endedOnDestination()] });
    const { outcome, history, workflowId, answered } = await withWorker(ctx, fake, async (start) => {
      const run = await start({ vm: 'web-7', destination: 'host-a' });
      // Queries all through the run: the situation in which markers used to move.
      let done = false;
      let answered = 0;
      const poll = (async () => {
        while (!done) {
          if (await run.handle.query(progressQuery).then(() => true, () => false)) answered++;
        }
      })();
      const outcome = await run.handle.result().finally(() => { done = true; });
      await poll;
      return { outcome, history: await run.handle.fetchHistory(), workflowId: run.workflowId, answered };
    });
    expect(outcome.outcome).toBe('completed');
    expect(answered).toBeGreaterThan(0);
    const events = history.events ?? [];
    const markers = patchMarkers(events);
    expect(markers.map((m) => m.id)).toEqual([PATCHES_DECIDED_UP_FRONT, ...LIVE_MIGRATION_PATCHES]);
    const [firstTask, secondTask] = taskCompletions(events);
    expect(secondTask).toBeDefined();
    for (const m of markers) {
      expect(m.eventId).toBeGreaterThan(firstTask!);
      expect(m.eventId).toBeLessThan(secondTask!);
    }
    await Worker.runReplayHistory({ workflowBundle: ctx.bundle, replayName: 'patches-up-front' }, history, workflowId);
  }, 90_000);
});
