/**
 * The data path (model/data-path.ts) as the workflow uses it: chosen from the versions the
 * destination check reported, recorded as a decision, sent to the start; a run whose pre-check
 * reported no versions (as before) starts exactly as it did.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostStackSchema, type PairStacks } from '../../model/data-path';
import { endedOnDestination, fakeActivities, precopy, setup } from './support/fake-activities';
import { migrationFailure, runMigration, startWorkflowTestContext, type WorkflowTestContext } from './support/workflow-env';

const stack = (name: string) =>
  HostStackSchema.parse(JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/stacks', `${name}.json`), 'utf8')));
const both = (name: string): PairStacks => ({ source: stack(name), destination: stack(name) });
const samples = () => [setup(), precopy(1, 100), precopy(2, 5), endedOnDestination()];

let ctx: WorkflowTestContext;
beforeAll(async () => { ctx = await startWorkflowTestContext(); });
afterAll(async () => { await ctx?.env.teardown(); });

describe('LiveMigration: the data path from both hosts\' versions', () => {
  it('backports on both ends: post-copy preemption recorded and the switch-over hint sent with the bandwidth', async () => {
    const fake = fakeActivities({ stacks: both('backports'), samples: samples() });
    const outcome = await runMigration(ctx, fake, { vm: 'web-7', destination: 'host-a', bandwidthMiBps: 40 });
    const [start] = fake.inputsOf('startMigration');
    expect(start!.dataPath).toMatchObject({ postcopyPreempt: true, parallelConnections: null, switchoverBandwidthMiBps: 40 });
    const decision = outcome.decisions.find((d) => d.action === 'data-path');
    expect(decision?.reason).toMatch(/preemption: on/);
    expect(outcome.decisions.map((d) => d.action).indexOf('data-path')).toBeLessThan(outcome.decisions.map((d) => d.action).indexOf('start'));
  });

  it("Debian 12's stack with multifd asked for and post-copy not eligible: multifd used, no preemption (no post-copy)", async () => {
    const fake = fakeActivities({ stacks: both('debian12'), postcopySupported: false, samples: samples() });
    await runMigration(ctx, fake, { vm: 'web-7', destination: 'host-a', policy: { dataPath: { parallelConnections: 2 } } });
    expect(fake.inputsOf('startMigration')[0]!.dataPath).toMatchObject({ postcopyPreempt: false, parallelConnections: 2, switchoverBandwidthMiBps: null });
  });

  it('no versions reported: no data-path decision, and the start carries none', async () => {
    const fake = fakeActivities({ samples: samples() });
    const outcome = await runMigration(ctx, fake, { vm: 'web-7', destination: 'host-a' });
    expect(fake.inputsOf('startMigration')[0]!.dataPath).toBeUndefined();
    expect(outcome.decisions.some((d) => d.action === 'data-path')).toBe(false);
  });

  it('a policy asking for more parallel connections than allowed is refused naming the field', async () => {
    const fake = fakeActivities({ stacks: both('backports'), samples: samples() });
    const chain = await migrationFailure(ctx, fake, { vm: 'web-7', destination: 'host-a', policy: { dataPath: { parallelConnections: 99 } } });
    expect(JSON.stringify(chain)).toMatch(/policy\.dataPath\.parallelConnections/);
    expect(fake.count('startMigration')).toBe(0);
  });
});
