import { describe, expect, it } from 'vitest';
import type { LabState } from '../../../lab/state';
import { validateCreateVm, type CreateVmOptions } from '../../../lab/vms';

const state: LabState = {
  accel: 'tcg', subnet: '10.77.0.0/24', lanNetns: 'ferry-lan',
  hosts: [{
    name: 'host-a', index: 1, uuid: '00000000-0000-4000-8000-000000000001', address: '10.77.0.11', netns: 'ferry-host-a',
    dir: '/tmp/x', vcpus: 4, memoryMb: 4096, diskGb: 100, linkMbps: null, pmemNamespaces: [],
  }],
  vms: [],
};
const base: CreateVmOptions = { name: 'g', host: 'host-a', memoryMiB: 64, rateMiBps: 0 };

describe('a lab VM with a disk: bad input named', () => {
  it('accepts a local or shared disk of a sensible size', () => {
    expect(() => validateCreateVm({ ...base, disk: { pool: 'local', sizeMiB: 16, blocksPerSecond: 50 } }, state)).not.toThrow();
    expect(() => validateCreateVm({ ...base, disk: { pool: 'shared', sizeMiB: 16, blocksPerSecond: 50, fillMiB: 16 } }, state)).not.toThrow();
  });
  it.each([
    [{ pool: 'nfs' as never, sizeMiB: 16, blocksPerSecond: 50 }, /disk.pool must be 'local' or 'shared'/],
    [{ pool: 'local' as const, sizeMiB: 0, blocksPerSecond: 50 }, /disk.sizeMiB must be a whole number of MiB from 1 to 4096, got 0/],
    [{ pool: 'local' as const, sizeMiB: 16, blocksPerSecond: 50, format: 'vmdk' as never }, /disk.format must be 'raw' or 'qcow2'/],
    [{ pool: 'local' as const, sizeMiB: 16, blocksPerSecond: 50, fillMiB: 17 }, /disk.fillMiB must be .* from 0 to disk.sizeMiB \(16\), got 17/],
    [{ pool: 'local' as const, sizeMiB: 16, blocksPerSecond: 50, format: 'qcow2' as const, fillMiB: 1 }, /fillMiB works on raw volumes only/],
  ])('refuses %j', (disk, why) => {
    expect(() => validateCreateVm({ ...base, disk }, state)).toThrow(why);
  });
});
