/**
 * A vPMEM guest in the LiveMigration workflow (fake activities): post-copy is never used even when
 * the policy allows it and the guest would switch after its first pass, the decision says why, and
 * the destination is prepared with the migration id that keys its namespace assignment.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endedOnDestination, fakeActivities, precopy } from './support/fake-activities';
import { startWorkflowTestContext, withWorker, type WorkflowTestContext } from './support/workflow-env';

let ctx: WorkflowTestContext;
beforeAll(async () => { ctx = await startWorkflowTestContext(); });
afterAll(async () => { await ctx?.env.teardown(); });

const VPMEM = '/domain/devices/memory: vPMEM nvdimm backed by /var/lib/libvirt/pmem/ns0: persistent memory cannot be fetched on demand after the switch';
const REQUEST = { vm: 'web-7', destination: 'host-a', policy: { postcopy: { allowed: true, afterIteration: 2 } } };
const SAMPLES = [precopy(1, 100), precopy(2, 60), precopy(3, 30), precopy(4, 10), endedOnDestination()];

describe('a vPMEM guest', () => {
  it('migrates in pre-copy only although the policy allows post-copy; the decision names the device', async () => {
    const fake = fakeActivities({ samples: SAMPLES, postcopyBlockers: [VPMEM] });
    const outcome = await withWorker(ctx, fake, async (start) => (await start(REQUEST)).handle.result());
    expect(outcome.outcome).toBe('completed');
    expect(outcome.mode).toBe('precopy');
    expect(fake.inputsOf('startMigration')[0]!.postcopy).toBe(false);
    expect(fake.inputsOf('applyAction').filter((a) => a.action.kind === 'start-postcopy')).toEqual([]);
    const policy = outcome.decisions.find((d) => d.action === 'resolve-policy')!;
    expect(policy.reason).toBe(`pre-checks passed; post-copy not eligible (pre-checks) (${VPMEM})`);
  });

  it('the same guest without the device would switch to post-copy (the test can tell the difference)', async () => {
    const fake = fakeActivities({ samples: SAMPLES });
    await withWorker(ctx, fake, async (start) => (await start(REQUEST)).handle.result());
    expect(fake.inputsOf('startMigration')[0]!.postcopy).toBe(true);
    expect(fake.inputsOf('applyAction').filter((a) => a.action.kind === 'start-postcopy')).toHaveLength(1);
  });

  it('prepares the destination with the migration id the start carries (the key of its namespace assignment)', async () => {
    const fake = fakeActivities({ samples: SAMPLES, postcopyBlockers: [VPMEM] });
    await withWorker(ctx, fake, async (start) => (await start(REQUEST)).handle.result());
    const prepared = fake.inputsOf('prepareDestination')[0]!;
    expect(prepared.migrationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(prepared.migrationId).toBe(fake.inputsOf('startMigration')[0]!.migrationId);
  });
});
