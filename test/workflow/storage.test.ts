/**
 * A guest with a disk in the LiveMigration workflow (fake activities): a shared disk moves no
 * bytes; a local disk is copied (its destination volume created before the start, the start
 * carrying NON_SHARED_DISK's disk list, roll-back and finish told which disks were copied);
 * not enough room is refused before the claim; post-copy is never used while a disk is copied.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiskFacts, StorageFacts } from '../../model/storage/facts';
import { endedOnDestination, endedOnSource, fakeActivities, precopy } from './support/fake-activities';
import { migrationFailure, startWorkflowTestContext, withWorker, type WorkflowTestContext } from './support/workflow-env';

let ctx: WorkflowTestContext;
beforeAll(async () => { ctx = await startWorkflowTestContext(); });
afterAll(async () => { await ctx?.env.teardown(); });

const MiB = 2 ** 20;
const REQUEST = { vm: 'web-7', destination: 'host-a', policy: { postcopy: { allowed: true, afterIteration: 2 } } };
const SAMPLES = [precopy(1, 100), precopy(2, 60), precopy(3, 30), precopy(4, 10), endedOnDestination()];

function diskIn(dir: 'shared' | 'local', over: Partial<DiskFacts> = {}): StorageFacts {
  const path = `/var/lib/ferry/${dir}`;
  const pool = { name: dir, path, availableBytes: 2048 * MiB };
  return {
    disks: [{
      disk: { target: 'vda', device: 'disk', type: 'file', sourcePath: `${path}/web-7.qcow2`, format: 'qcow2', readonly: false, shareable: false, cache: 'none' },
      volume: { capacityBytes: 1024 * MiB, allocationBytes: 200 * MiB },
      sourcePool: pool, destinationPool: pool, shared: dir === 'shared' ? 'shared' : 'not-shared',
      ...over,
    }],
  };
}

describe('a guest with a disk', () => {
  it('on shared storage: no volume created, no disk copied, post-copy still allowed', async () => {
    const fake = fakeActivities({ samples: SAMPLES, storage: diskIn('shared') });
    const outcome = await withWorker(ctx, fake, async (start) => (await start(REQUEST)).handle.result());
    expect(outcome.outcome).toBe('completed');
    expect(fake.count('checkStorage')).toBe(1);
    expect(fake.count('createDestinationVolumes')).toBe(0);
    const started = fake.inputsOf('startMigration')[0]!;
    expect(started.migrateDisks).toBeUndefined();
    // Proven shared by the probe: libvirt's own check (by filesystem type) is waived for it.
    expect(started.sharedDisksVouched).toEqual(['vda']);
    expect(outcome.decisions.find((d) => d.action === 'start')!.reason).toContain('VIR_MIGRATE_UNSAFE');
    expect(started.postcopy).toBe(true);
    expect(fake.inputsOf('finishOnHosts')[0]!.diskCopies).toBeUndefined();
    expect(outcome.decisions.find((d) => d.action === 'storage-plan')!.reason).toMatch(/^vda: shared \(/);
  });

  it('on local storage: the destination volume before the start, the disk list at the start, pre-copy only, the copies handed to finish', async () => {
    const fake = fakeActivities({ samples: SAMPLES, storage: diskIn('local') });
    const outcome = await withWorker(ctx, fake, async (start) => (await start(REQUEST)).handle.result());
    expect(outcome.outcome).toBe('completed');
    const names = fake.names();
    expect(names.indexOf('checkStorage')).toBeLessThan(names.indexOf('claim'));
    expect(names.indexOf('createDestinationVolumes')).toBeGreaterThan(names.indexOf('claim'));
    expect(names.indexOf('createDestinationVolumes')).toBeLessThan(names.indexOf('startMigration'));
    const copy = {
      target: 'vda', sourcePath: '/var/lib/ferry/local/web-7.qcow2', pool: 'local', volumeName: 'web-7.qcow2',
      format: 'qcow2', capacityBytes: 1024 * MiB, allocationBytes: 200 * MiB,
    };
    const created = fake.inputsOf('createDestinationVolumes')[0]!;
    expect(created).toEqual({ migrationId: fake.inputsOf('startMigration')[0]!.migrationId, destination: 'host-a', copies: [copy] });
    const started = fake.inputsOf('startMigration')[0]!;
    expect(started.migrateDisks).toEqual(['vda']);
    // Post-copy allowed by the policy, refused for the disk copy: never requested.
    expect(started.postcopy).toBe(false);
    expect(fake.inputsOf('applyAction').filter((a) => a.action.kind === 'start-postcopy')).toEqual([]);
    expect(outcome.decisions.find((d) => d.action === 'resolve-policy')!.reason)
      .toContain('disk vda copied by block migration: a broken post-copy would leave the disk split between two hosts');
    expect(fake.inputsOf('finishOnHosts')[0]!.diskCopies).toEqual([copy]);
  });

  it('on local storage, a failed copy rolls back with the copied disks named, so the volume ferry created goes', async () => {
    const fake = fakeActivities({ samples: [precopy(1, 100), endedOnSource()], storage: diskIn('local') });
    const outcome = await withWorker(ctx, fake, async (start) => (await start(REQUEST)).handle.result());
    expect(outcome.outcome).toBe('failed');
    expect(fake.count('createDestinationVolumes')).toBe(1);
    expect(fake.inputsOf('rollbackMigration')[0]!.diskCopies?.map((c) => [c.target, c.pool, c.volumeName])).toEqual([['vda', 'local', 'web-7.qcow2']]);
    expect(fake.count('finishOnHosts')).toBe(0);
  });

  it('not enough room in the destination pool is refused before the claim, naming the disk', async () => {
    const tight = diskIn('local', { destinationPool: { name: 'local', path: '/var/lib/ferry/local', availableBytes: 100 * MiB } });
    const fake = fakeActivities({ samples: SAMPLES, storage: tight });
    const chain = await migrationFailure(ctx, fake, REQUEST);
    expect(chain[1]).toMatchObject({ type: 'Refused', nonRetryable: true });
    expect(chain[1]!.message).toBe(
      "storage pre-check on host-a: disk vda: not enough room in the destination's pool 'local': the copy needs 200 MiB (+10 % margin: 220 MiB), 100 MiB are available; free space there or choose another host",
    );
    expect(fake.count('claim')).toBe(0);
    expect(fake.count('createDestinationVolumes')).toBe(0);
    expect(fake.count('startMigration')).toBe(0);
  });

  it('a disk excluded by the policy is not copied and nothing is refused', async () => {
    const fake = fakeActivities({ samples: SAMPLES, storage: diskIn('local', { destinationPool: null, shared: 'unknown' }) });
    const outcome = await withWorker(ctx, fake, async (start) => (await start({ ...REQUEST, policy: { storage: { excludeDisks: ['vda'] } } })).handle.result());
    expect(outcome.outcome).toBe('completed');
    expect(fake.count('createDestinationVolumes')).toBe(0);
    expect(fake.inputsOf('startMigration')[0]!.migrateDisks).toBeUndefined();
  });
});
