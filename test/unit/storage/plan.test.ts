/**
 * planStorage: each disk shared, copied or excluded from the facts, and every refusal naming the
 * disk and the reason, before anything moves. Post-copy is not eligible while a disk is copied.
 */
import { describe, expect, it } from 'vitest';
import { ConvergencePolicySchema } from '../../../model/convergence-policy';
import { postcopyEligibility } from '../../../model/postcopy-eligibility';
import type { DiskFacts, StorageFacts } from '../../../model/storage/facts';
import { planStorage } from '../../../model/storage/plan';
import { postcopyUsable } from '../../../workflows/convergence';

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const policy = ConvergencePolicySchema.parse({}).storage;

function disk(over: Partial<DiskFacts['disk']> = {}, rest: Partial<Omit<DiskFacts, 'disk'>> = {}): DiskFacts {
  const sourcePath = over.sourcePath === undefined ? '/var/lib/ferry/local/web-7.qcow2' : over.sourcePath;
  return {
    disk: { target: 'vda', device: 'disk', type: 'file', format: 'qcow2', readonly: false, shareable: false, cache: 'none', ...over, sourcePath },
    volume: { capacityBytes: 4 * GiB, allocationBytes: 300 * MiB },
    sourcePool: { name: 'local', path: '/var/lib/ferry/local', availableBytes: 10 * GiB },
    destinationPool: { name: 'local', path: '/var/lib/ferry/local', availableBytes: 10 * GiB },
    shared: 'not-shared',
    ...rest,
  };
}
const facts = (...disks: DiskFacts[]): StorageFacts => ({ disks });

describe('planStorage', () => {
  it('a disk the probe found on both hosts is shared: nothing copied', () => {
    const plan = planStorage(facts(disk({ sourcePath: '/var/lib/ferry/shared/web-7.qcow2' }, { shared: 'shared' })), policy);
    expect(plan.disks).toEqual([expect.objectContaining({ target: 'vda', action: 'shared' })]);
    expect(plan).toMatchObject({ refusals: [], copyTargets: [], copyBytes: 0, provenShared: ['vda'] });
  });

  it('a shared disk cached by the host (writeback, or no mode: QEMU\'s default) is refused: the destination could read stale blocks', () => {
    for (const cache of ['writeback', null, 'unsafe']) {
      const plan = planStorage(facts(disk({ sourcePath: '/var/lib/ferry/shared/web-7.qcow2', cache }, { shared: 'shared' })), policy);
      expect(plan.refusals).toEqual([expect.stringMatching(/^disk vda: .*web-7.qcow2 is on shared storage with host cache mode '.*': .*use cache='none' or 'directsync'/)]);
    }
    const direct = planStorage(facts(disk({ sourcePath: '/var/lib/ferry/shared/web-7.qcow2', cache: 'directsync' }, { shared: 'shared' })), policy);
    expect(direct).toMatchObject({ refusals: [], provenShared: ['vda'] });
  });

  it('a copied or network disk is not vouched for as shared: libvirt checks those itself', () => {
    expect(planStorage(facts(disk()), policy).provenShared).toEqual([]);
    const net = planStorage(facts(disk({ type: 'network', sourcePath: null, cache: null }, { shared: 'unknown', volume: null, sourcePool: null, destinationPool: null })), policy);
    expect(net).toMatchObject({ refusals: [], provenShared: [] });
  });

  it('a disk on the source\'s own storage is copied into the destination pool of the same path, same name, format and size', () => {
    const plan = planStorage(facts(disk()), policy);
    expect(plan.refusals).toEqual([]);
    expect(plan.copyTargets).toEqual(['vda']);
    expect(plan.copyBytes).toBe(300 * MiB);
    expect(plan.disks[0]).toMatchObject({
      action: 'copy',
      copy: { sourcePath: '/var/lib/ferry/local/web-7.qcow2', pool: 'local', volumeName: 'web-7.qcow2', format: 'qcow2', capacityBytes: 4 * GiB, allocationBytes: 300 * MiB },
    });
  });

  it('a disk the policy excludes is neither copied nor checked', () => {
    const plan = planStorage(facts(disk({ target: 'vdb', format: 'vmdk' }, { destinationPool: null })), { ...policy, excludeDisks: ['vdb'] });
    expect(plan).toMatchObject({ refusals: [], copyTargets: [] });
    expect(plan.disks[0]).toMatchObject({ target: 'vdb', action: 'excluded' });
  });

  it('not enough room in the destination pool (allocation + margin vs available) is refused naming the disk and the numbers', () => {
    const tight = disk({}, { destinationPool: { name: 'local', path: '/var/lib/ferry/local', availableBytes: 320 * MiB } });
    const plan = planStorage(facts(tight), policy);
    expect(plan.refusals).toEqual([
      "disk vda: not enough room in the destination's pool 'local': the copy needs 300 MiB (+10 % margin: 330 MiB), 320 MiB are available; free space there or choose another host",
    ]);
    // Without the margin it fits: the margin is what refused it.
    expect(planStorage(facts(tight), { ...policy, freeSpaceMarginPct: 0 }).refusals).toEqual([]);
  });

  it('several copies into one pool count together', () => {
    const room = { destinationPool: { name: 'local', path: '/var/lib/ferry/local', availableBytes: 500 * MiB } };
    const plan = planStorage(facts(disk({}, room), disk({ target: 'vdb', sourcePath: '/var/lib/ferry/local/data.raw', format: 'raw' }, room)), policy);
    expect(plan.refusals).toHaveLength(1);
    expect(plan.refusals[0]).toMatch(/^disk vda, vdb: not enough room in the destination's pool 'local': the copy needs 600 MiB/);
  });

  it('refuses what cannot be copied, each naming the disk and why', () => {
    const cases: Array<[DiskFacts, RegExp]> = [
      [disk({ format: 'vmdk' }), /^disk vda: format 'vmdk' of \/var\/lib\/ferry\/local\/web-7.qcow2 is not one ferry copies \(raw, qcow2\)$/],
      [disk({ shareable: true }), /^disk vda: .* is shareable/],
      [disk({ type: 'block', sourcePath: '/dev/sdb' }), /^disk vda: \/dev\/sdb is a block disk on storage the destination does not share: ferry copies only file disks/],
      [disk({ device: 'cdrom', readonly: true, sourcePath: '/var/lib/ferry/local/tools.iso', format: 'raw' }), /^disk vda: .*tools.iso is a read-only cdrom on local storage/],
      [disk({}, { destinationPool: null, shared: 'unknown' }), /^disk vda: the destination has no storage pool with target path \/var\/lib\/ferry\/local/],
      [disk({}, { sourcePool: null, volume: null, shared: 'unknown' }), /^disk vda: .* is in no libvirt storage pool on the source/],
    ];
    for (const [f, refusal] of cases) {
      const plan = planStorage(facts(f), policy);
      expect(plan.refusals, f.disk.sourcePath ?? '').toEqual([expect.stringMatching(refusal)]);
      expect(plan.copyTargets).toEqual([]);
    }
  });

  it('an empty cdrom drive and a network disk move nothing and refuse nothing', () => {
    const plan = planStorage(facts(
      disk({ target: 'sda', device: 'cdrom', sourcePath: null, readonly: true }, { volume: null, sourcePool: null, destinationPool: null, shared: 'unknown' }),
      disk({ target: 'vdc', type: 'network', sourcePath: null }, { volume: null, sourcePool: null, destinationPool: null, shared: 'unknown' }),
    ), policy);
    expect(plan.refusals).toEqual([]);
    expect(plan.disks.map((d) => [d.target, d.action])).toEqual([['sda', 'excluded'], ['vdc', 'shared']]);
  });
});

describe('post-copy with a disk copy', () => {
  it('is not eligible, with the reason naming the copied disks, whatever the policy', () => {
    const copy = planStorage(facts(disk()), policy);
    const e = postcopyEligibility({ blockers: [], recoverySupported: true, diskCopies: copy.copyTargets });
    expect(e).toEqual({ eligible: false, reasons: ['disk vda copied by block migration: a broken post-copy would leave the disk split between two hosts'] });
    expect(postcopyUsable(ConvergencePolicySchema.parse({ postcopy: { allowed: true } }), e.eligible).usable).toBe(false);
  });

  it('a shared disk leaves post-copy eligible', () => {
    const shared = planStorage(facts(disk({}, { shared: 'shared' })), policy);
    expect(postcopyEligibility({ blockers: [], recoverySupported: true, diskCopies: shared.copyTargets }).eligible).toBe(true);
  });
});

describe('storage policy', () => {
  it('refuses a disk name that is no target dev, naming the field', () => {
    const r = ConvergencePolicySchema.safeParse({ storage: { excludeDisks: ['/var/x'] } });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]).toMatchObject({ path: ['storage', 'excludeDisks', 0], message: 'expected a disk target dev such as vda or sdb' });
  });
});
