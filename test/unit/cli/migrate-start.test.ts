/**
 * `ferry migrate <vm>` starts migrate-<vm uuid> with as few round trips as it safely can
 * (client/migration-start.ts): a UUID at once, a name by the UUID its newest migration recorded (a
 * guess the workflow checks), else through a worker's locate. The Temporal side is a fake that
 * records what the CLI asked; the workflow's side of a wrong guess is in
 * test/workflow/cli-migrate.test.ts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AlreadyMigratingError, FerryClient, type LocatedVm } from '../../../client/ferry-client';
import { startForVm } from '../../../client/migration-start';
import { ValidatedRequest } from '../../../client/request';

const UUID = '3435ec0c-1a4a-4471-aca0-b5a61da8370c';
const OLD_UUID = '0b9d4f0e-7a3c-4c55-9a8e-2f1d6c4b7e10';
const located: LocatedVm = { uuid: UUID, name: 'web-7', host: 'host-c', hosts: ['host-a', 'host-c'] };

afterEach(() => vi.restoreAllMocks());

/** A FerryClient whose Temporal side is scripted; `known`: what visibility remembers of the name. */
function fakeClient(known: string | null | Error, opts: { runningIds?: string[] } = {}) {
  const fake = {
    ensureWorker: vi.fn(async () => undefined),
    lastKnownVmUuid: vi.fn(async (_name: string) => {
      if (known instanceof Error) throw known;
      return known;
    }),
    findRunningVm: vi.fn(async (_vm: string) => located),
    startMigration: vi.fn(async (_req: unknown, vm: LocatedVm | string) => {
      const id = `migrate-${typeof vm === 'string' ? vm : vm.uuid}`;
      if (opts.runningIds?.includes(id)) throw new AlreadyMigratingError(id);
      return { workflowId: id, firstExecutionRunId: 'run-1' };
    }),
  };
  return { fake, client: fake as unknown as FerryClient };
}

const request = (vm: string) => ValidatedRequest.from({ vm, destination: { host: 'host-a', mode: 'check' } });

describe('ferry migrate: how migrate-<vm uuid> is started', () => {
  it('a VM given by UUID: started at once, no visibility lookup, no locate', async () => {
    const { fake, client } = fakeClient(OLD_UUID);
    const s = await startForVm(client, request(UUID.toUpperCase()));
    expect(s).toMatchObject({ workflowId: `migrate-${UUID}`, via: 'uuid', guessed: false, vm: { uuid: UUID, host: null } });
    expect(fake.lastKnownVmUuid).not.toHaveBeenCalled();
    expect(fake.findRunningVm).not.toHaveBeenCalled();
    expect(fake.ensureWorker).toHaveBeenCalledTimes(1);
  });

  it('a name Temporal saw migrate: started under the UUID it had then, a guess; no locate', async () => {
    const { fake, client } = fakeClient(UUID);
    const s = await startForVm(client, request('web-7'));
    expect(s).toMatchObject({ workflowId: `migrate-${UUID}`, via: 'known', guessed: true, vm: { name: 'web-7', uuid: UUID, host: null } });
    expect(fake.lastKnownVmUuid).toHaveBeenCalledWith('web-7');
    expect(fake.findRunningVm).not.toHaveBeenCalled();
    // The request keeps the name: the workflow looks the VM up by it and checks the id against it.
    expect(fake.startMigration.mock.calls[0]![0]).toMatchObject({ value: { vm: 'web-7' } });
  });

  it('a guessed id already running (maybe another VM\'s): a worker locates the VM, and its own id is used', async () => {
    const { fake, client } = fakeClient(OLD_UUID, { runningIds: [`migrate-${OLD_UUID}`] });
    const s = await startForVm(client, request('web-7'));
    expect(fake.findRunningVm).toHaveBeenCalledWith('web-7');
    expect(s).toMatchObject({ workflowId: `migrate-${UUID}`, via: 'located', guessed: false, vm: { host: 'host-c' } });
  });

  it('this VM already migrating, found by a worker: refused as before (AlreadyMigratingError)', async () => {
    const { client } = fakeClient(UUID, { runningIds: [`migrate-${UUID}`] });
    await expect(startForVm(client, request('web-7'))).rejects.toBeInstanceOf(AlreadyMigratingError);
  });

  it('a name never migrated, or a visibility lookup that fails: a worker locates the VM first', async () => {
    for (const known of [null, new Error('visibility is down')]) {
      const { fake, client } = fakeClient(known);
      const s = await startForVm(client, request('web-7'));
      expect(fake.findRunningVm).toHaveBeenCalledWith('web-7');
      expect(s).toMatchObject({ workflowId: `migrate-${UUID}`, via: 'located', vm: { host: 'host-c' } });
    }
  });

  it('--detach: located first even when the UUID is known (nobody waits to correct a wrong guess)', async () => {
    const { fake, client } = fakeClient(UUID);
    const s = await startForVm(client, request('web-7'), { detach: true });
    expect(fake.lastKnownVmUuid).not.toHaveBeenCalled();
    expect(s.via).toBe('located');
  });

  it('a worker that is missing is reported before anything starts, whatever the path', async () => {
    const { fake, client } = fakeClient(UUID);
    fake.ensureWorker.mockRejectedValue(new Error('no worker polls ferry'));
    await expect(startForVm(client, request('web-7'))).rejects.toThrow('no worker polls ferry');
    expect(fake.startMigration).not.toHaveBeenCalled();
  });
});

describe('FerryClient.lastKnownVmUuid', () => {
  it('the newest migration of that name with a UUID, in lower case; null when none', async () => {
    const Ctor = FerryClient as unknown as new (client: unknown, connection: unknown, config: unknown) => FerryClient;
    const client = new Ctor({}, {}, { namespace: 'default', taskQueue: 'ferry' });
    const list = vi.spyOn(client, 'list');
    list.mockResolvedValueOnce([
      { vmUuid: null } as never,
      { vmUuid: UUID.toUpperCase() } as never,
      { vmUuid: OLD_UUID } as never,
    ]);
    await expect(client.lastKnownVmUuid('web-7')).resolves.toBe(UUID);
    expect(list).toHaveBeenCalledWith({ vm: { name: 'web-7' } }, 5);
    list.mockResolvedValueOnce([]);
    await expect(client.lastKnownVmUuid('web-7')).resolves.toBeNull();
  });
});
