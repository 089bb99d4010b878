/**
 * The LiveMigration workflow on a Temporal test server with scripted fake activities: the order
 * of its steps, pre-copy and post-copy completion, input and workflow-id refusals, post-copy
 * recovery (never a rollback after the switch). Rollback paths, updates and queries have their own
 * files (rollback.test.ts, operator.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConvergencePolicy } from '../../workflows/convergence';
import { OutcomeSchema } from '../../model/types';
import {
  FAKE_DEST_XML_FINGERPRINT, endedOnDestination, fakeActivities, hardFailure, postcopy, postcopyBroken, precopy, setup, type ActivityName,
} from './support/fake-activities';
import { migrationFailure, runMigration, startWorkflowTestContext, type WorkflowTestContext } from './support/workflow-env';

/** A well-formed migration id's UUID that is not the fake VM's. */
const OTHER_UUID = '0b9c2a1e-4f3d-4e5a-9b8c-7d6e5f4a3b2c';

let ctx: WorkflowTestContext;
beforeAll(async () => { ctx = await startWorkflowTestContext(); });
afterAll(async () => { await ctx?.env.teardown(); });

const STEPS_BEFORE_WATCH: ActivityName[] = [
  'checkSource', 'chooseDestinationHost', 'checkDestination', 'checkStorage', 'migrationsInFlight', 'claim', 'prepareDestination', 'guestStallMark', 'startMigration',
];

/** Calls other than the watch and the controller's actions (those interleave by design). */
const steps = (names: ActivityName[]) => names.filter((n) => n !== 'watchMigration' && n !== 'applyAction');

describe('LiveMigration: pre-copy to completion', () => {
  it('runs the steps in order and reports the outcome with the final stats and the decisions', async () => {
    const fake = fakeActivities({
      postcopySupported: false,
      samples: [setup(), precopy(1, 100), precopy(2, 40), precopy(3, 5), endedOnDestination()],
      finalStats: { downtimeMs: 37, bytes: 150_000_000, iterations: 3 },
    });
    const outcome = await runMigration(ctx, fake, { vm: 'web-7', destination: 'host-a' });

    // The guest-stall reading and the Placement bookkeeping run alongside the finish on the hosts
    // (finish.ts): the three come after the watch, in any order.
    const ordered = steps(fake.names());
    const finishing = ['finishOnHosts', 'dropMigrationClaim', 'guestStallSince'];
    expect(ordered.slice(0, STEPS_BEFORE_WATCH.length)).toEqual(STEPS_BEFORE_WATCH);
    expect([...ordered.slice(STEPS_BEFORE_WATCH.length)].sort()).toEqual([...finishing].sort());
    expect(fake.count('guestStallSince')).toBe(1);
    // Every watch happens between the start and the finish.
    const names = fake.names();
    const firstWatch = names.indexOf('watchMigration');
    const lastWatch = names.lastIndexOf('watchMigration');
    expect(firstWatch).toBeGreaterThan(names.indexOf('startMigration'));
    expect(lastWatch).toBeLessThan(names.indexOf('finishOnHosts'));
    expect(fake.count('watchMigration')).toBe(5);
    expect(fake.count('rollbackMigration')).toBe(0);
    expect(fake.count('revertClaim')).toBe(0);

    expect(OutcomeSchema.parse(outcome)).toEqual(outcome);
    expect(outcome).toMatchObject({
      outcome: 'completed', mode: 'precopy', source: 'host-c', destination: 'host-a',
      downtimeMs: 37, bytes: 150_000_000, iterations: 3, guestMaxStallMs: 55,
      vm: { name: 'web-7', uuid: fake.vm.uuid },
    });
    expect(outcome.error).toBeUndefined();
    const actions = outcome.decisions.map((d) => d.action);
    expect(actions.slice(0, 6)).toEqual(['choose-destination', 'resolve-policy', 'admission', 'claim', 'prepare-destination', 'start']);
    // Nothing else in flight: admitted at once, excluding itself from the count.
    expect(fake.inputsOf('migrationsInFlight')).toEqual([{ excludeWorkflowIds: [`migrate-${fake.vm.uuid}`] }]);
    expect(actions[actions.length - 1]).toBe('job-ended');
    for (const d of outcome.decisions) expect(d.reason.length).toBeGreaterThan(0);
    expect(outcome.decisions.find((d) => d.action === 'resolve-policy')!.reason).toMatch(/post-copy not eligible/);
    expect(outcome.decisions.find((d) => d.action === 'start')!.reason).toBe('peer-to-peer pre-copy: started');
    expect(outcome.decisions.find((d) => d.action === 'job-ended')!.reason).toMatch(/runs on the destination only/);

    // What the workflow sent: the migration id ties claim, start and finish together.
    const [claim] = fake.inputsOf('claim');
    const [start] = fake.inputsOf('startMigration');
    const [finish] = fake.inputsOf('finishOnHosts');
    expect(claim!.migrationId).toBe(outcome.migrationId);
    expect(start).toMatchObject({
      migrationId: outcome.migrationId, source: 'host-c', destination: 'host-a', postcopy: false,
      destXmlFingerprint: FAKE_DEST_XML_FINGERPRINT, bandwidthMiBps: null, initialMaxDowntimeMs: 100,
    });
    expect(finish).toMatchObject({ migrationId: outcome.migrationId, source: 'host-c', destination: 'host-a' });
    expect(fake.inputsOf('chooseDestinationHost')[0]!.requested).toEqual({ host: 'host-a', mode: 'check' });
    expect(fake.inputsOf('guestStallSince')[0]!.mark).toEqual({ line: 7 });
    // The watch is told what the workflow has seen, so it returns at the next decision point.
    expect(fake.inputsOf('watchMigration').map((w) => w.lastIteration)).toEqual([null, null, 1, 2, 3]);
  });

  it('passes the requested bandwidth to the start and lets Placement choose when no destination is named', async () => {
    const fake = fakeActivities({
      postcopySupported: false, defaultDestination: 'host-b',
      samples: [precopy(1, 50), endedOnDestination()],
    });
    const outcome = await runMigration(ctx, fake, { vm: 'web-7', bandwidthMiBps: 8 });
    expect(outcome).toMatchObject({ outcome: 'completed', destination: 'host-b' });
    expect(fake.inputsOf('chooseDestinationHost')[0]!.requested).toBeUndefined();
    expect(fake.inputsOf('startMigration')[0]).toMatchObject({ destination: 'host-b', bandwidthMiBps: 8 });
  });
});

describe('LiveMigration: post-copy', () => {
  it('switches to post-copy once iteration 2 starts and completes in mode postcopy', async () => {
    const fake = fakeActivities({
      samples: [precopy(1, 100), precopy(2, 60), postcopy(2, 30), postcopy(2, 5), endedOnDestination()],
    });
    const outcome = await runMigration(ctx, fake, { vm: 'web-7', destination: { host: 'host-b', mode: 'force' } });

    expect(fake.inputsOf('startMigration')[0]!.postcopy).toBe(true);
    const actions = fake.inputsOf('applyAction').map((a) => a.action.kind);
    expect(actions.filter((k) => k === 'start-postcopy')).toHaveLength(1);
    // The switch is requested on the sample of iteration 2, not before.
    const callsBeforeSwitch = fake.names().slice(0, fake.names().findIndex((_, i) => {
      const c = fake.calls[i]!;
      return c.name === 'applyAction' && (c.input as { action: { kind: string } }).action.kind === 'start-postcopy';
    }));
    expect(callsBeforeSwitch.filter((n) => n === 'watchMigration')).toHaveLength(2);

    expect(outcome).toMatchObject({ outcome: 'completed', mode: 'postcopy', destination: 'host-b' });
    const switched = outcome.decisions.find((d) => d.action === 'start-postcopy');
    expect(switched?.reason).toMatch(/iteration 2 reached .*start post-copy/);
    expect(fake.count('rollbackMigration')).toBe(0);
  });

  it('never switches to post-copy when the source has a post-copy blocker', async () => {
    const fake = fakeActivities({
      postcopyBlockers: ['VFIO hostdev'],
      samples: [precopy(1, 100), precopy(2, 60), precopy(3, 10), endedOnDestination()],
    });
    const outcome = await runMigration(ctx, fake, { vm: 'web-7', destination: 'host-a' });
    expect(outcome).toMatchObject({ outcome: 'completed', mode: 'precopy' });
    expect(fake.inputsOf('startMigration')[0]!.postcopy).toBe(false);
    expect(fake.inputsOf('applyAction').map((a) => a.action.kind)).not.toContain('start-postcopy');
    expect(outcome.decisions.find((d) => d.action === 'resolve-policy')!.reason).toMatch(/not eligible.*VFIO hostdev/);
  });

  it('recovers a broken post-copy (POSTCOPY_RESUME) and then completes, without any rollback', async () => {
    const fake = fakeActivities({
      samples: [precopy(1, 100), precopy(2, 60), postcopy(2, 30), postcopyBroken(2, 20), postcopy(2, 10), endedOnDestination()],
    });
    const outcome = await runMigration(ctx, fake, { vm: 'web-7', destination: 'host-a' });
    expect(fake.count('recoverPostcopy')).toBe(1);
    expect(fake.inputsOf('recoverPostcopy')[0]).toMatchObject({ source: 'host-c', destination: 'host-a', destXmlFingerprint: FAKE_DEST_XML_FINGERPRINT });
    expect(outcome).toMatchObject({ outcome: 'completed', mode: 'postcopy' });
    const actions = outcome.decisions.map((d) => d.action);
    expect(actions.indexOf('recover-postcopy')).toBeGreaterThan(actions.indexOf('start-postcopy'));
    expect(actions[actions.indexOf('recover-postcopy') + 1]).toBe('recovered');
    expect(fake.count('rollbackMigration')).toBe(0);
    expect(fake.count('finishOnHosts')).toBe(1);
  });

  it('a finish that fails after post-copy fails the migration but never rolls it back', async () => {
    const fake = fakeActivities({
      samples: [precopy(1, 100), precopy(2, 60), postcopy(2, 30), endedOnDestination()],
      overrides: { finishOnHosts: async () => { throw hardFailure('destination libvirtd refused the final stats', 'VmMissing'); } },
    });
    const chain = await migrationFailure(ctx, fake, { vm: 'web-7', destination: 'host-a' });
    expect(chain.map((l) => l.name)).toEqual(['WorkflowFailedError', 'ActivityFailure', 'ApplicationFailure']);
    expect(chain[2]).toMatchObject({ type: 'VmMissing', message: 'destination libvirtd refused the final stats' });
    expect(fake.count('finishOnHosts')).toBe(1);
    expect(fake.count('rollbackMigration')).toBe(0);
    expect(fake.inputsOf('applyAction').map((a) => a.action.kind)).not.toContain('abort');
  });

  it('a recovery that fails for good right after the switch was requested never rolls back', async () => {
    // The first sample after StartPostCopy already reports PostcopyFailed: the controller has not
    // yet seen a post-copy sample (its phase is still "post-copy requested"), but the guest's
    // newest memory may already be on the destination. Destroying it would lose the VM.
    const fake = fakeActivities({
      samples: [precopy(1, 100), precopy(2, 60), postcopyBroken(2, 30)],
      overrides: { recoverPostcopy: async () => { throw hardFailure('POSTCOPY_RESUME: destination unreachable', 'RollbackUnsafe'); } },
    });
    const chain = await migrationFailure(ctx, fake, { vm: 'web-7', destination: 'host-a' });
    expect(chain[2]).toMatchObject({ type: 'RollbackUnsafe' });
    expect(fake.count('recoverPostcopy')).toBe(1);
    expect(fake.count('rollbackMigration')).toBe(0);
  });
});

describe('LiveMigration: refused before anything happens', () => {
  const cases: [string, unknown, RegExp][] = [
    ['an empty vm', { vm: '' }, /vm: must not be empty/],
    ['an unknown field', { vm: 'web-7', destinaton: 'host-a' }, /destinaton: unknown field/],
    ['a bad destination.mode', { vm: 'web-7', destination: { host: 'host-a', mode: 'maybe' } }, /destination\.mode: must be one of force, check/],
    ['a bad policy override', { vm: 'web-7', policy: { postcopy: { alowed: false } } }, /policy\.postcopy\.alowed: unknown field/],
    ['no input at all', undefined, /must be an object/],
  ];
  it.each(cases)('%s fails the workflow at once, non-retryable, naming the field', async (_what, input, message) => {
    const fake = fakeActivities({ samples: [] });
    const chain = await migrationFailure(ctx, fake, input);
    expect(chain.map((l) => l.name)).toEqual(['WorkflowFailedError', 'ApplicationFailure']);
    expect(chain[1]).toMatchObject({ type: 'InvalidInput', nonRetryable: true });
    expect(chain[1]!.message).toMatch(/^invalid migration request: /);
    expect(chain[1]!.message).toMatch(message);
    expect(fake.calls).toEqual([]);
  });

  it('a workflow id of another VM is refused after the source check, naming both ids; nothing is claimed', async () => {
    const fake = fakeActivities({ samples: [] });
    const other = `migrate-${OTHER_UUID}`;
    const chain = await migrationFailure(ctx, fake, { vm: 'web-7', destination: 'host-a' }, { workflowId: other });
    expect(chain[1]).toMatchObject({ name: 'ApplicationFailure', type: 'InvalidInput', nonRetryable: true });
    expect(chain[1]!.message).toBe(
      `workflow id '${other}' is not this VM's: this migration must run as workflow id migrate-${fake.vm.uuid} ` +
        `(derived from the VM, so one VM has one migration at a time); start it again with --workflow-id migrate-${fake.vm.uuid}`,
    );
    expect(fake.names()).toEqual(['checkSource']);
  });

  it.each([
    ['not a UUID', 'migrate-1234-not-a-uuid', 'web-7', "'1234-not-a-uuid' is not a UUID (8-4-4-4-12 hexadecimal digits)",
      "migrate-<the UUID of VM 'web-7'>"],
    ['a name', 'migrate-web-7', 'web-7', "'web-7' is not a UUID (8-4-4-4-12 hexadecimal digits)", "migrate-<the UUID of VM 'web-7'>"],
    ['nothing after migrate-', 'migrate-', OTHER_UUID, 'nothing follows migrate-', `migrate-${OTHER_UUID}`],
    ['another prefix', `move-${OTHER_UUID}`, OTHER_UUID, `'move-${OTHER_UUID}' does not start with migrate-`, `migrate-${OTHER_UUID}`],
    ['an upper-case UUID', `migrate-${OTHER_UUID.toUpperCase()}`, OTHER_UUID.toUpperCase(), `it must be in lower case (migrate-${OTHER_UUID})`,
      `migrate-${OTHER_UUID}`],
  ])('a malformed workflow id (%s) is refused before any host is asked, naming the id and the rule', async (_what, workflowId, vm, problem, use) => {
    const fake = fakeActivities({ samples: [] });
    const chain = await migrationFailure(ctx, fake, { vm, destination: 'host-a' }, { workflowId });
    expect(chain.map((l) => l.name)).toEqual(['WorkflowFailedError', 'ApplicationFailure']);
    expect(chain[1]).toMatchObject({ type: 'InvalidInput', nonRetryable: true });
    expect(chain[1]!.message).toBe(
      `workflow id '${workflowId}' is not a migration id: a migration must run as workflow id migrate-<vm uuid>, ` +
        `the UUID of the request's VM in lower case (so one VM has one migration at a time), and ${problem}; start it again with --workflow-id ${use}`,
    );
    expect(fake.calls).toEqual([]);
  });

  it('an invalid request is reported before a malformed workflow id', async () => {
    const fake = fakeActivities({ samples: [] });
    const chain = await migrationFailure(ctx, fake, { vm: 'web-7', bandwidthMiBps: -1 }, { workflowId: 'migrate-xyz' });
    expect(chain[1]!.message).toBe('invalid migration request: bandwidthMiBps: must be at least 1 (got -1)');
  });
});

describe('LiveMigration: the resolved policy', () => {
  it('is recorded in the outcome with the overrides applied', async () => {
    const fake = fakeActivities({ postcopySupported: false, samples: [precopy(1, 10), endedOnDestination()] });
    const outcome = await runMigration(ctx, fake, {
      vm: 'web-7', destination: 'host-a', policy: { downtime: { initialMs: 250 }, pause: { allowed: false } },
    });
    const policy = outcome.resolvedPolicy as ConvergencePolicy;
    expect(policy.downtime).toMatchObject({ initialMs: 250, maxMs: 900 });
    expect(policy.pause.allowed).toBe(false);
    expect(fake.inputsOf('startMigration')[0]!.initialMaxDowntimeMs).toBe(250);
  });
});
