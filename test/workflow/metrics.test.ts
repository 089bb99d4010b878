/**
 * A worker's Prometheus endpoint: the SDK runtime's own metrics and ferry's, on one address, after
 * a completed and a rolled-back migration (fake activities). Its own file: the Temporal runtime,
 * and with it the endpoint, is installed once per process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '@temporalio/worker';
import { ferryMetric } from '../../model/metric-names';
import type { RecoverResult } from '../../model/activity-contract';
import { abortUpdate, progressQuery, resumeRecoveryUpdate } from '../../workflows/definitions';
import { reportMigrationsInFlight } from '../../worker/metrics/in-flight';
import { prometheusTelemetry } from '../../worker/metrics/telemetry';
import { Gate, endedOnDestination, fakeActivities, postcopy, postcopyBroken, precopy, setup } from './support/fake-activities';
import { find, freeLoopbackPort, scrape, type Series } from './support/prometheus-scrape';
import { startWorkflowTestContext, withWorker, type WorkflowTestContext } from './support/workflow-env';

let ctx: WorkflowTestContext;
let address = '';
beforeAll(async () => {
  address = `127.0.0.1:${await freeLoopbackPort()}`;
  ctx = await startWorkflowTestContext({ telemetryOptions: prometheusTelemetry(address) });
});
afterAll(async () => { await ctx?.env.teardown(); });

/** Scrapes until `ready` holds (the workflow's metrics leave its sandbox after its activation completes). */
async function scrapeUntil(ready: (s: Series[]) => boolean, what: string): Promise<Series[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const s = await scrape(address);
    if (ready(s)) return s;
    if (Date.now() > deadline) throw new Error(`${what} never appeared on http://${address}/metrics; it had:\n${s.map((x) => `${x.name} ${JSON.stringify(x.labels)} ${x.value}`).join('\n')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const value = (s: Series[], name: string, labels: Record<string, string>) => find(s, name, labels).reduce((a, x) => a + x.value, 0);

describe("a worker's metrics endpoint", () => {
  it('serves ferry series by outcome and mode after a completed and a rolled-back migration, next to the SDK runtime metrics', async () => {
    const completed = fakeActivities({
      postcopySupported: false,
      samples: [setup(), precopy(1, 100), precopy(2, 40), endedOnDestination()],
      finalStats: { downtimeMs: 37, bytes: 150_000_000, iterations: 2 },
    });
    const done = await withWorker(ctx, completed, async (start) => (await start({ vm: 'web-7', destination: 'host-a' })).handle.result());
    expect(done).toMatchObject({ outcome: 'completed', mode: 'precopy', downtimeMs: 37, guestMaxStallMs: 55 });

    const hold = new Gate(precopy(2, 60));
    const aborted = fakeActivities({ samples: [precopy(1, 100), hold, endedOnDestination()] });
    const stopInFlight = reportMigrationsInFlight(ctx.env.nativeConnection, ctx.env.namespace ?? 'default', Runtime.instance().metricMeter, Runtime.instance().logger, 200);
    let inFlightWhileHeld: number;
    const rolledBack = await withWorker(ctx, aborted, async (start) => {
      const { handle } = await start({ vm: 'web-8', destination: 'host-a' });
      await hold.reached;
      const held = await scrapeUntil((s) => value(s, ferryMetric.inFlight, {}) === 1, 'one migration in flight');
      inFlightWhileHeld = value(held, ferryMetric.inFlight, {});
      await handle.executeUpdate(abortUpdate, { args: [{ reason: 'metrics test' }] });
      hold.release();
      return handle.result();
    });
    expect(rolledBack.outcome).toBe('rolled_back');
    expect(inFlightWhileHeld!).toBe(1);

    const s = await scrapeUntil(
      (x) => value(x, ferryMetric.migrations, { outcome: 'rolled_back' }) === 1 && value(x, ferryMetric.inFlight, {}) === 0,
      'the rolled-back migration and none in flight',
    );
    stopInFlight();
    // Counted once each, by outcome and mode, tagged with the workflow type.
    expect(find(s, ferryMetric.migrations, { outcome: 'completed', mode: 'precopy', workflowType: 'liveMigration' }).map((x) => x.value)).toEqual([1]);
    expect(find(s, ferryMetric.migrations, { outcome: 'rolled_back', mode: rolledBack.mode }).map((x) => x.value)).toEqual([1]);
    expect(value(s, ferryMetric.migrations, {})).toBe(2);
    // Durations of both; downtime and guest stall of the completed one only, in ferry's buckets.
    expect(value(s, `${ferryMetric.duration}_count`, {})).toBe(2);
    expect(value(s, `${ferryMetric.duration}_sum`, { outcome: 'completed' })).toBe(done.totalMs);
    expect(value(s, `${ferryMetric.downtime}_count`, { mode: 'precopy' })).toBe(1);
    expect(value(s, `${ferryMetric.downtime}_sum`, { mode: 'precopy' })).toBe(37);
    expect(value(s, `${ferryMetric.downtime}_bucket`, { mode: 'precopy', le: '25' })).toBe(0);
    expect(value(s, `${ferryMetric.downtime}_bucket`, { mode: 'precopy', le: '50' })).toBe(1);
    expect(value(s, `${ferryMetric.guestStall}_sum`, { mode: 'precopy' })).toBe(55);
    // Nothing recovered or escalated in either.
    expect(value(s, ferryMetric.postcopyRecoveries, {})).toBe(0);
    expect(value(s, ferryMetric.escalations, {})).toBe(0);
    // The SDK's own metrics on the same endpoint.
    expect(find(s, 'temporal_workflow_completed', { workflow_type: 'liveMigration' }).reduce((a, x) => a + x.value, 0)).toBe(2);
    expect(find(s, 'temporal_activity_execution_latency_count', { activity_type: 'claim' }).length).toBeGreaterThan(0);
  });

  it('counts an escalated post-copy recovery and the recovery after the operator, and the post-copy outcome', async () => {
    const hosts = { source: 'paused (PostcopyFailed)', destination: 'running (PostcopyFailed)' };
    const exhausted: RecoverResult = { outcome: 'escalate', reason: 'attempts-exhausted', why: 'refused each time', attempts: 10, errors: [], hosts };
    const resumed: RecoverResult = { outcome: 'resumed', why: 'post-copy runs again', attempts: 1, errors: [], hosts };
    let operatorAsked = false;
    const fake = fakeActivities({
      samples: [precopy(1, 100), precopy(2, 60), postcopy(2, 30), postcopyBroken(2, 30), postcopy(2, 10), endedOnDestination()],
      finalStats: { downtimeMs: 4, postcopyRequests: 12 },
      overrides: { recoverPostcopy: async (input) => (operatorAsked && input.attemptsSoFar === 0 ? resumed : exhausted) },
    });
    const before = await scrape(address);
    const outcome = await withWorker(ctx, fake, async (start) => {
      const { handle } = await start({ vm: 'web-9', destination: 'host-a' });
      for (let i = 0; i < 150 && (await handle.query(progressQuery)).phase !== 'escalated'; i++) await new Promise((r) => setTimeout(r, 100));
      operatorAsked = true;
      await handle.executeUpdate(resumeRecoveryUpdate, { args: [{}] });
      return handle.result();
    });
    expect(outcome).toMatchObject({ outcome: 'completed', mode: 'postcopy', downtimeMs: 4 });
    const after = await scrapeUntil((x) => value(x, ferryMetric.migrations, { mode: 'postcopy' }) === 1, 'the post-copy migration');
    const delta = (name: string, labels: Record<string, string>) => value(after, name, labels) - value(before, name, labels);
    expect(delta(ferryMetric.escalations, { where: 'postcopy-recovery' })).toBe(1);
    expect(delta(ferryMetric.escalations, { where: 'situation' })).toBe(0);
    expect(delta(ferryMetric.postcopyRecoveries, { how: 'resumed' })).toBe(1);
    expect(delta(ferryMetric.migrations, { outcome: 'completed', mode: 'postcopy' })).toBe(1);
    expect(delta(`${ferryMetric.downtime}_sum`, { mode: 'postcopy' })).toBe(4);
  }, 60_000);
});
