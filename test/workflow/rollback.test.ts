/**
 * Every way a LiveMigration ends before the switch-over, and what it undoes: refusals before the
 * claim undo nothing, a refused claim is compensated (revertClaim), any failure after the claim
 * rolls back (rollbackMigration) and reports the cause, a job that ends with the VM still on the
 * source is a failed migration, and the controller's completion budget aborts and rolls back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MigrationSample } from '../../model/activity-contract';
import {
  endedOnSource, fakeActivities, hardFailure, precopy, refusal, view, type FakeActivities,
} from './support/fake-activities';
import { migrationFailure, runMigration, startWorkflowTestContext, type WorkflowTestContext } from './support/workflow-env';

let ctx: WorkflowTestContext;
beforeAll(async () => { ctx = await startWorkflowTestContext(); });
afterAll(async () => { await ctx?.env.teardown(); });

const REQUEST = { vm: 'web-7', destination: 'host-a' };

describe('LiveMigration: refusals before the claim undo nothing', () => {
  it('checkSource refused: the workflow fails Refused, nothing claimed or rolled back', async () => {
    const fake = fakeActivities({
      samples: [],
      overrides: { checkSource: async () => { throw refusal('web-7 is shut off on host-c: start it before migrating'); } },
    });
    const chain = await migrationFailure(ctx, fake, REQUEST);
    expect(chain.map((l) => l.name)).toEqual(['WorkflowFailedError', 'ActivityFailure', 'ApplicationFailure']);
    expect(chain[2]).toMatchObject({ type: 'Refused', nonRetryable: true, message: 'web-7 is shut off on host-c: start it before migrating' });
    expect(fake.names()).toEqual(['checkSource']); // a refusal is not retried
  });

  it('no destination with room: fails Refused before any claim', async () => {
    const fake = fakeActivities({
      samples: [],
      overrides: { chooseDestinationHost: async () => { throw refusal('destination host-a has no room for VCPU:1,MEMORY_MB:128 in Placement'); } },
    });
    const chain = await migrationFailure(ctx, fake, REQUEST);
    expect(chain[2]).toMatchObject({ type: 'Refused', message: expect.stringMatching(/no room/) });
    expect(fake.names()).toEqual(['checkSource', 'chooseDestinationHost']);
  });
});

describe('LiveMigration: a refused claim is compensated', () => {
  it('revertClaim runs with the migration id, then the workflow fails Refused; no rollback of a job that never started', async () => {
    const fake = fakeActivities({
      samples: [],
      overrides: { claim: async () => { throw refusal('destination host-a has no room for VCPU:1,MEMORY_MB:128 in Placement: 409'); } },
    });
    const chain = await migrationFailure(ctx, fake, REQUEST);
    expect(chain[2]).toMatchObject({ type: 'Refused', message: expect.stringMatching(/no room/) });
    expect(fake.names()).toEqual(['checkSource', 'chooseDestinationHost', 'checkDestination', 'checkStorage', 'migrationsInFlight', 'claim', 'revertClaim']);
    const [claim] = fake.inputsOf('claim');
    expect(fake.inputsOf('revertClaim')).toEqual([{ migrationId: claim!.migrationId, vmUuid: fake.vm.uuid }]);
  });
});

/** The outcome of a migration that was rolled back after `failing` failed for good. */
async function failedAt(fake: FakeActivities) {
  const outcome = await runMigration(ctx, fake, REQUEST);
  expect(fake.count('rollbackMigration')).toBe(1);
  const [claim] = fake.inputsOf('claim');
  expect(fake.inputsOf('rollbackMigration')[0]).toEqual({
    migrationId: claim!.migrationId, vm: fake.vm, source: 'host-c', destination: 'host-a', resumeIfPaused: false,
    placementOutage: 'report', // a Placement outage is the workflow's to wait out, shown in the progress
  });
  expect(fake.count('finishOnHosts')).toBe(0);
  expect(outcome).toMatchObject({
    outcome: 'failed', source: 'host-c', destination: 'host-a', migrationId: claim!.migrationId,
    downtimeMs: null, bytes: null, hosts: { source: 'running (Booted)', destination: 'absent' },
  });
  const last = outcome.decisions[outcome.decisions.length - 1]!;
  expect(last).toMatchObject({ action: 'roll-back', reason: 'aborted the migration job; allocations: reverted' });
  return outcome;
}

describe('LiveMigration: failures after the claim roll back', () => {
  it('prepareDestination fails non-retryably: rolled back, outcome failed with the cause', async () => {
    const fake = fakeActivities({
      samples: [],
      overrides: { prepareDestination: async () => { throw hardFailure('vPMEM path /dev/pmem0 has no counterpart on host-a', 'Refused'); } },
    });
    const outcome = await failedAt(fake);
    expect(outcome.error).toEqual({ message: 'vPMEM path /dev/pmem0 has no counterpart on host-a', type: 'ActivityFailure' });
    expect(fake.names()).toEqual([
      'checkSource', 'chooseDestinationHost', 'checkDestination', 'checkStorage', 'migrationsInFlight', 'claim', 'prepareDestination', 'rollbackMigration',
    ]);
    expect(fake.count('prepareDestination')).toBe(1); // non-retryable: one attempt
  });

  it('startMigration fails: rolled back, outcome failed with the cause', async () => {
    const fake = fakeActivities({
      samples: [],
      overrides: { startMigration: async () => { throw hardFailure('Requested operation is not valid: domain has an active job', 'Refused'); } },
    });
    const outcome = await failedAt(fake);
    expect(outcome.error?.message).toBe('Requested operation is not valid: domain has an active job');
    expect(fake.count('watchMigration')).toBe(0);
  });

  it('a transient start failure is retried, not rolled back', async () => {
    const fake = fakeActivities({
      postcopySupported: false,
      samples: [precopy(1, 10), { ...precopy(2, 0), job: 'ended', source: view.none(), destination: view.migrated() }],
      overrides: {
        startMigration: async (_input, call) => {
          if (call === 1) throw new Error('libvirtd on host-c: connection reset');
          return { outcome: 'already-running' };
        },
      },
    });
    const outcome = await runMigration(ctx, fake, REQUEST);
    expect(outcome.outcome).toBe('completed');
    expect(fake.count('startMigration')).toBe(2);
    expect(fake.count('rollbackMigration')).toBe(0);
    expect(outcome.decisions.find((d) => d.action === 'start')!.reason).toMatch(/already-running/);
  });

  it('the watch fails for good during pre-copy: rolled back', async () => {
    const fake = fakeActivities({
      samples: [],
      overrides: { watchMigration: async () => { throw hardFailure('web-7 vanished from host-c', 'VmMissing'); } },
    });
    const outcome = await failedAt(fake);
    expect(outcome.error?.message).toBe('web-7 vanished from host-c');
  });

  it('the job ends with the VM still on the source: outcome failed, rolled back, the situation named', async () => {
    const fake = fakeActivities({ postcopySupported: false, samples: [precopy(1, 100), precopy(1, 80), endedOnSource()] });
    const outcome = await failedAt(fake);
    expect(outcome.error?.message).toMatch(/source running \(Booted\), destination absent: the guest runs on the source only/);
    const ended = outcome.decisions.find((d) => d.action === 'job-ended');
    expect(ended?.reason).toMatch(/runs on the source only/);
    expect(fake.inputsOf('applyAction').map((a) => a.action.kind)).not.toContain('abort');
  });
});

describe('LiveMigration: the completion budget aborts', () => {
  const TINY_BUDGET = { completion: { secondsPerGiB: 1, minSeconds: 1 }, postcopy: { allowed: false }, pause: { allowed: false } };

  it('a migration that never converges is aborted by the controller and rolled back: outcome aborted', async () => {
    // 1 s budget (1 s/GiB x 1 GiB); the samples keep the same remaining bytes, 150 ms apart.
    const stuck = (i: number) => precopy(1, 100 - (i % 2));
    const fake = fakeActivities({ samples: Array.from({ length: 40 }, (_, i) => stuck(i)), sampleDelayMs: 150 });
    const outcome = await runMigration(ctx, fake, { ...REQUEST, policy: TINY_BUDGET });

    const actions = fake.inputsOf('applyAction').map((a) => a.action.kind);
    expect(actions[actions.length - 1]).toBe('abort');
    expect(fake.count('rollbackMigration')).toBe(1);
    expect(fake.calls[fake.calls.length - 1]!.name).toBe('rollbackMigration');
    expect(outcome).toMatchObject({ outcome: 'aborted', mode: 'precopy', downtimeMs: null });
    expect(outcome.error).toBeUndefined();
    const abort = outcome.decisions.find((d) => d.action === 'abort');
    expect(abort?.reason).toMatch(/past the completion budget of 1\.0 s .* -> abort \(the guest keeps running on the source\)/);
    expect(outcome.totalMs).toBeGreaterThan(1_000);
  });

  it('over twice the budget while the controller paused the guest: resume-and-abort, rollback told to resume', async () => {
    // force-complete at the budget (post-copy not allowed -> pause), still not done at twice it.
    let paused = false;
    const fake: FakeActivities = fakeActivities({
      samples: [],
      overrides: {
        watchMigration: async (): Promise<MigrationSample> => {
          await new Promise((r) => setTimeout(r, 100));
          paused ||= fake.inputsOf('applyAction').some((a) => a.action.kind === 'pause');
          return paused
            ? precopy(2, 60, { mode: 'paused', source: { ...view.sourceMigrating(), domain: { state: 'paused', reason: 'User' } } })
            : precopy(1, 100);
        },
      },
    });
    const outcome = await runMigration(ctx, fake, {
      ...REQUEST, policy: { completion: { secondsPerGiB: 1, minSeconds: 1, action: 'force-complete' }, postcopy: { allowed: false } },
    });
    const actions = fake.inputsOf('applyAction').map((a) => a.action.kind);
    expect(actions.filter((k) => k === 'pause')).toHaveLength(1);
    expect(actions[actions.length - 1]).toBe('resume-and-abort');
    expect(fake.inputsOf('rollbackMigration')[0]!.resumeIfPaused).toBe(true);
    expect(outcome).toMatchObject({ outcome: 'aborted' });
    expect(outcome.decisions.find((d) => d.action === 'pause')?.reason).toMatch(/force-complete: post-copy not allowed by policy, pause the guest/);
    expect(outcome.decisions.find((d) => d.action === 'resume-and-abort')?.reason).toMatch(/twice the completion budget/);
  });
});
