/**
 * `strategy: auto` in the LiveMigration workflow (fake activities): the forecast is measured and
 * recorded before the claim, and its pick decides when post-copy is taken — after the first pass
 * for a guest that dirties faster than the path carries, only on a stall for one that converges.
 * Nothing that would finish: refused before anything moves. Nothing to forecast from: as configured.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endedOnDestination, fakeActivities, postcopy, precopy, type FakeScript } from './support/fake-activities';
import type { WorkflowHandle } from '@temporalio/client';
import { withAutoForecast } from '../../model/forecast/auto-forecast';
import { decisionsQuery, policyQuery } from '../../workflows/definitions';
import { migrationFailure, startWorkflowTestContext, withWorker, type WorkflowTestContext } from './support/workflow-env';

let ctx: WorkflowTestContext;
beforeAll(async () => { ctx = await startWorkflowTestContext(); });
afterAll(async () => { await ctx?.env.teardown(); });

const MiB = 1024 * 1024;
const facts = (mibps: number, linkMiBps: number | null) => ({ dirtyBps: mibps * MiB, sourceLinkMiBps: linkMiBps, destinationLinkMiBps: linkMiBps });
/** The host's facts; with the plan, the forecast from them, as the activities return it (auto-forecast.ts). */
const dirtying = (mibps: number, linkMiBps: number | null = null): FakeScript['overrides'] => ({
  gatherForecastFacts: async ({ plan }) => withAutoForecast(facts(mibps, linkMiBps), plan),
});
/** An activity result recorded before the forecast moved into it: the facts only. */
const dirtyingFactsOnly = (mibps: number): FakeScript['overrides'] => ({ gatherForecastFacts: async () => facts(mibps, null) });
/** A guest that converges: remaining falls every pass. */
const CONVERGING = [precopy(1, 100), precopy(2, 60), precopy(3, 30), precopy(4, 10), endedOnDestination()];
const AUTO = { vm: 'web-7', destination: 'host-a', bandwidthMiBps: 10, policy: { strategy: 'auto' } };
/** The outcome and the decisions with their inputs (the outcome keeps only action and reason). */
async function run(fake: ReturnType<typeof fakeActivities>, request: unknown) {
  return withWorker(ctx, fake, async (start) => {
    const { handle } = await start(request) as { handle: WorkflowHandle };
    const outcome = await handle.result();
    return { outcome, decisions: await handle.query(decisionsQuery), policy: await handle.query(policyQuery) };
  });
}
const startedPostcopy = (fake: ReturnType<typeof fakeActivities>) => fake.inputsOf('applyAction').filter((a) => a.action.kind === 'start-postcopy').length;

describe('strategy auto', () => {
  it('a guest dirtying 40 MiB/s over a 10 MiB/s path: post-copy after the first pass, the forecast recorded before the claim', async () => {
    const fake = fakeActivities({ samples: [precopy(1, 100), precopy(2, 60), postcopy(2, 30), endedOnDestination()], overrides: dirtying(40) });
    const { outcome, decisions, policy } = await run(fake, AUTO);
    expect(outcome.outcome).toBe('completed');
    expect(outcome.mode).toBe('postcopy');
    expect(startedPostcopy(fake)).toBe(1);
    expect(policy).toMatchObject({ strategy: 'auto', postcopy: { when: 'after-iteration' } });
    const actions = decisions.map((d) => d.action);
    const forecast = decisions.find((d) => d.action === 'forecast')!;
    expect(actions.indexOf('forecast')).toBeLessThan(actions.indexOf('claim'));
    // The first decision about how to move the guest: none of the controller's comes before it.
    expect(actions.slice(0, actions.indexOf('forecast'))).toEqual(['choose-destination', 'resolve-policy', 'admission']);
    expect(forecast.inputs).toMatchObject({ pick: 'postcopy-after-first-pass', dirtyBps: 40 * MiB, bandwidthBps: 10 * MiB, bandwidthSource: 'operator', budgetMs: 150_000 });
    expect(forecast.reason).toContain("128 MiB guest dirtying 40.0 MiB/s, path 10.0 MiB/s (the request's bandwidth limit; no link speed in the inventory, so post-copy is assumed no faster)");
    expect(forecast.reason).toMatch(/precopy not done in 150 s, over budget; .* -> postcopy-after-first-pass: pre-copy would not converge/);
    expect(fake.inputsOf('gatherForecastFacts')[0]).toMatchObject({
      vmUuid: fake.vm.uuid, source: 'host-c', destination: 'host-a',
      plan: { source: 'host-c', destination: 'host-a', memoryMiB: 128, limitMiBps: 10, postcopyEligible: true, policy: { strategy: 'auto' } },
    });
  });

  it("follows the forecast the activity returned (the history's), not one the workflow would compute today", async () => {
    // Facts of a quiet guest, with the forecast of a hot one: a replay with a changed model reads the recorded pick.
    const hot = withAutoForecast(facts(40, null), { source: 'host-c', destination: 'host-a', memoryMiB: 128, limitMiBps: 10, policy: { strategy: 'auto' }, postcopyEligible: true });
    const fake = fakeActivities({
      samples: [precopy(1, 100), precopy(2, 60), postcopy(2, 30), endedOnDestination()],
      overrides: { gatherForecastFacts: async () => ({ ...facts(1, null), auto: hot.auto }) },
    });
    const { decisions, policy } = await run(fake, AUTO);
    expect(decisions.find((d) => d.action === 'forecast')!.inputs).toMatchObject({ pick: 'postcopy-after-first-pass', dirtyBps: 40 * MiB });
    expect(policy).toMatchObject({ postcopy: { when: 'after-iteration' } });
    expect(startedPostcopy(fake)).toBe(1);
  });

  it('a result recorded before, with the facts only: the workflow forecasts from them, as it did then', async () => {
    const fake = fakeActivities({ samples: [precopy(1, 100), precopy(2, 60), postcopy(2, 30), endedOnDestination()], overrides: dirtyingFactsOnly(40) });
    const { outcome, decisions } = await run(fake, AUTO);
    expect(decisions.find((d) => d.action === 'forecast')!.inputs).toMatchObject({ pick: 'postcopy-after-first-pass', dirtyBps: 40 * MiB, bandwidthSource: 'operator' });
    expect(outcome.mode).toBe('postcopy');
  });

  it("with the inventory's link speeds, the request's limit holds in pre-copy only: post-copy is predicted at the link's speed", async () => {
    const samples = [precopy(1, 100), precopy(2, 60), postcopy(2, 30), endedOnDestination()];
    const limitOnly = await run(fakeActivities({ samples, overrides: dirtying(40) }), AUTO);
    const withLinks = await run(fakeActivities({ samples, overrides: dirtying(40, 100) }), AUTO);
    const f = withLinks.decisions.find((d) => d.action === 'forecast')!;
    expect(f.inputs).toMatchObject({ pick: 'postcopy-after-first-pass', bandwidthBps: 100 * MiB, bandwidthSource: 'inventory' });
    expect(f.reason).toContain("path 100.0 MiB/s (the inventory's link speeds (the slower end: 100 MiB/s), pre-copy limited to 10 MiB/s by the request)");
    const predicted = (r: typeof limitOnly) => r.decisions.find((d) => d.action === 'forecast')!.inputs!.predictedTotalMs as number;
    // The first pass at 10 MiB/s either way (12.8 s); the rest at 100 MiB/s instead of 10.
    expect(predicted(withLinks)).toBeLessThan(predicted(limitOnly) - 8_000);
  });

  it('a guest dirtying 1 MiB/s: pre-copy, post-copy kept for a stall (as configured it would switch at iteration 2)', async () => {
    const auto = fakeActivities({ samples: CONVERGING, overrides: dirtying(1) });
    const { outcome, decisions, policy } = await run(auto, AUTO);
    expect(outcome.outcome).toBe('completed');
    expect(outcome.mode).toBe('precopy');
    expect(startedPostcopy(auto)).toBe(0);
    expect(auto.inputsOf('startMigration')[0]!.postcopy).toBe(true); // still possible if it stalls
    // The policy query shows the policy in force: post-copy only on a stall.
    expect(policy).toMatchObject({ strategy: 'auto', postcopy: { allowed: true, when: 'on-stall' } });
    const forecast = decisions.find((d) => d.action === 'forecast')!;
    expect(forecast.inputs).toMatchObject({ pick: 'precopy' });
    expect(forecast.inputs!.predictedTotalMs).toBeGreaterThan(0);

    const configured = fakeActivities({ samples: CONVERGING, overrides: dirtying(1) });
    const asConfigured = await withWorker(ctx, configured, async (start) => (await start({ ...AUTO, policy: {} })).handle.result());
    expect(startedPostcopy(configured)).toBe(1);
    expect(configured.count('gatherForecastFacts')).toBe(0);
    expect(asConfigured.decisions.map((d) => d.action)).not.toContain('forecast');
  });

  it('a pre-copy pick still takes post-copy when the guest stalls after all (the forecast was wrong)', async () => {
    // Remaining stays at 90 MiB pass after pass, a pass every 250 ms: the stall detector (window 1 s here) says so.
    const stuck = Array.from({ length: 12 }, (_, i) => precopy(i + 1, 90));
    const fake = fakeActivities({ samples: [...stuck, postcopy(12, 30), endedOnDestination()], sampleDelayMs: 250, overrides: dirtying(1) });
    const { outcome, decisions } = await run(fake, { ...AUTO, policy: { strategy: 'auto', stall: { windowMs: 1_000 } } });
    expect(decisions.find((d) => d.action === 'forecast')!.inputs).toMatchObject({ pick: 'precopy' });
    expect(startedPostcopy(fake)).toBe(1);
    expect(outcome.mode).toBe('postcopy');
    expect(decisions.find((d) => d.reason.includes('-> stalled; post-copy allowed and eligible -> start post-copy'))).toBeDefined();
  });

  it('nothing allowed would finish: refused before the claim, naming why', async () => {
    const fake = fakeActivities({ samples: CONVERGING, overrides: dirtying(40) });
    const chain = await migrationFailure(ctx, fake, { ...AUTO, policy: { strategy: 'auto', postcopy: { allowed: false }, pause: { allowed: false } } });
    expect(chain[1]).toMatchObject({ type: 'Refused', nonRetryable: true });
    expect(chain[1]!.message).toMatch(/^strategy auto: pre-copy would not converge, and neither post-copy nor pausing is allowed \(forecast: 128 MiB guest/);
    expect(fake.count('claim')).toBe(0);
    expect(fake.count('prepareDestination')).toBe(0);
  });

  it('no bandwidth known for the path: the migration goes on as configured, and the decision says why', async () => {
    const fake = fakeActivities({ samples: CONVERGING, overrides: dirtying(1) });
    const outcome = await withWorker(ctx, fake, async (start) => (await start({ vm: 'web-7', destination: 'host-a', policy: { strategy: 'auto' } })).handle.result());
    const forecast = outcome.decisions.find((d) => d.action === 'forecast')!;
    expect(forecast.reason).toBe('no bandwidth known for host-c -> host-a (no bandwidthMiBps in the request, no linkMiBps for both hosts in the inventory, no completed migrations between them to fit it from) -> strategy as configured');
    expect(startedPostcopy(fake)).toBe(1); // as configured: post-copy once iteration 2 starts
    expect(outcome.outcome).toBe('completed');
  });
});
