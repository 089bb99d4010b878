import { expect } from 'vitest';
import { locateVm } from '../../../lab/vms';
import { placementClient, rpOf } from './lab-processes';

export * from './lab-processes';

/**
 * After every migration test: the VM runs on exactly one host, no definition of it is left
 * elsewhere, its allocation is only on that host's provider, and no migration consumer is left.
 */
export async function expectInvariants(vm: { name: string; uuid: string }, host: string, migrationId?: string): Promise<void> {
  const where = await locateVm(vm.name);
  expect(where.host).toBe(host);
  expect(where.presentOn).toEqual([{ host, state: 'running', reason: expect.any(String) }]);
  const p = await placementClient();
  const alloc = await p.getAllocations(vm.uuid);
  expect(Object.keys(alloc.allocations)).toEqual([rpOf(host)]);
  if (migrationId) expect((await p.getAllocations(migrationId)).allocations).toEqual({});
}

