/**
 * The storage activities' libvirt side against in-memory hosts: disks read from a domain's XML,
 * shared-or-not proven by the probe (and the probe always removed), and the volumes of a block
 * migration created and removed by their markers: never a volume that was there before.
 */
import { describe, expect, it } from 'vitest';
import { disksOfXml } from '../../../activities/storage/disks-in-xml';
import { storageFacts } from '../../../activities/storage/facts';
import {
  createDestinationVolumes, createdMarkerName, dropCreatedMarkers, ExistingVolumeError, removeCreatedVolumes, removeSourceVolumes,
} from '../../../activities/storage/volumes';
import { probeVolumeName, type Disk } from '../../../model/storage/facts';
import type { DiskCopy } from '../../../model/storage/activity-io';
import { FakeDirectory, FakeStorageHost } from './fake-storage-host';

const MiB = 2 ** 20;
const DOMAIN = `<domain type='kvm'><name>web-7</name><devices>
  <disk type='file' device='disk'><driver name='qemu' type='qcow2' cache='none'/><source file='/srv/local/web-7.qcow2'/><target dev='vda' bus='virtio'/></disk>
  <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/srv/shared/data.raw'/><target dev='vdb' bus='virtio'/><shareable/></disk>
  <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><target dev='sda' bus='sata'/><readonly/></disk>
  <disk type='network' device='disk'><driver name='qemu' type='raw'/><source protocol='rbd' name='pool/img'/><target dev='vdc' bus='virtio'/></disk>
</devices></domain>`;

describe('disksOfXml', () => {
  it('reads target, device, type, source, format, readonly and shareable of every disk', () => {
    expect(disksOfXml(DOMAIN)).toEqual([
      { target: 'vda', device: 'disk', type: 'file', sourcePath: '/srv/local/web-7.qcow2', format: 'qcow2', readonly: false, shareable: false, cache: 'none' },
      { target: 'vdb', device: 'disk', type: 'file', sourcePath: '/srv/shared/data.raw', format: 'raw', readonly: false, shareable: true, cache: null },
      { target: 'sda', device: 'cdrom', type: 'file', sourcePath: null, format: 'raw', readonly: true, shareable: false, cache: null },
      { target: 'vdc', device: 'disk', type: 'network', sourcePath: null, format: 'raw', readonly: false, shareable: false, cache: null },
    ]);
  });
});

/** Two hosts: /srv/shared one directory seen by both, /srv/local a directory each. */
function lab() {
  const shared = new FakeDirectory();
  const srcLocal = new FakeDirectory();
  const dstLocal = new FakeDirectory();
  srcLocal.files.set('web-7.qcow2', { capacityBytes: 1024 * MiB, allocationBytes: 200 * MiB, format: 'qcow2' });
  shared.files.set('data.raw', { capacityBytes: 512 * MiB, allocationBytes: 512 * MiB, format: 'raw' });
  const src = new FakeStorageHost().addPool('shared', '/srv/shared', shared).addPool('local', '/srv/local', srcLocal);
  const dst = new FakeStorageHost().addPool('shared', '/srv/shared', shared).addPool('local', '/srv/local', dstLocal, 3000 * MiB);
  return { src, dst, shared, srcLocal, dstLocal };
}

const disk = (target: string, sourcePath: string): Disk => ({ target, device: 'disk', type: 'file', sourcePath, format: 'raw', readonly: false, shareable: false });

describe('storageFacts and the shared-storage probe', () => {
  it('tells a shared directory from a local one by the probe, reads volume and pools, and leaves no probe behind', async () => {
    const { src, dst, shared, srcLocal, dstLocal } = lab();
    const facts = await storageFacts(src, dst, [disk('vda', '/srv/local/web-7.qcow2'), disk('vdb', '/srv/shared/data.raw')], 'run-1');
    expect(facts.disks.map((d) => [d.disk.target, d.shared])).toEqual([['vda', 'not-shared'], ['vdb', 'shared']]);
    expect(facts.disks[0]).toMatchObject({
      volume: { capacityBytes: 1024 * MiB, allocationBytes: 200 * MiB },
      sourcePool: { name: 'local', path: '/srv/local' },
      destinationPool: { name: 'local', path: '/srv/local', availableBytes: 3000 * MiB },
    });
    for (const dir of [shared, srcLocal, dstLocal]) expect([...dir.files.keys()].filter((f) => f.startsWith('.ferry'))).toEqual([]);
    // The probe was made on the destination and looked for on the source after a refresh.
    expect(dst.acts).toContain(`create local/${probeVolumeName('run-1')}`);
    expect(src.acts.indexOf('refresh local')).toBeGreaterThanOrEqual(0);
  });

  it('a disk file made outside libvirt is found after a refresh of its pool', async () => {
    const { src, dst, srcLocal } = lab();
    srcLocal.files.set('late.raw', { capacityBytes: 64 * MiB, allocationBytes: 64 * MiB, format: 'raw' });
    const facts = await storageFacts(src, dst, [disk('vdb', '/srv/local/late.raw')], 'run-4');
    expect(facts.disks[0]).toMatchObject({ volume: { capacityBytes: 64 * MiB }, shared: 'not-shared' });
  });

  it('a retry removes its own leftover probe first; no pool of that path on the destination: unknown, nothing created', async () => {
    const { src, dst, dstLocal } = lab();
    dstLocal.files.set(probeVolumeName('run-2'), { capacityBytes: 4096, allocationBytes: 0, format: 'raw' });
    const again = await storageFacts(src, dst, [disk('vda', '/srv/local/web-7.qcow2')], 'run-2');
    expect(again.disks[0]!.shared).toBe('not-shared');
    expect(dstLocal.files.has(probeVolumeName('run-2'))).toBe(false);

    const bare = new FakeStorageHost();
    const facts = await storageFacts(src, bare, [disk('vda', '/srv/local/web-7.qcow2')], 'run-3');
    expect(facts.disks[0]).toMatchObject({ shared: 'unknown', destinationPool: null, sourcePool: { name: 'local' } });
    expect(bare.acts).toEqual([]);
  });
});

const COPY: DiskCopy = { target: 'vda', sourcePath: '/srv/local/web-7.qcow2', pool: 'local', volumeName: 'web-7.qcow2', format: 'qcow2', capacityBytes: 1024 * MiB, allocationBytes: 200 * MiB };
const MIG = '7f000000-0000-4000-8000-000000000001';

describe('the volumes of a block migration', () => {
  it('creates the destination volume (same name, format, capacity) after its marker; a retry creates nothing more', async () => {
    const { dst, dstLocal } = lab();
    await createDestinationVolumes(dst, MIG, [COPY]);
    const creates = () => dst.acts.filter((a) => a.startsWith('create'));
    expect(creates()).toEqual([`create local/${createdMarkerName(MIG, 'web-7.qcow2')}`, 'create local/web-7.qcow2']);
    expect(dstLocal.files.get('web-7.qcow2')).toEqual({ capacityBytes: 1024 * MiB, allocationBytes: 0, format: 'qcow2' });
    const steps = await createDestinationVolumes(dst, MIG, [COPY]);
    expect(steps).toEqual(["web-7.qcow2 in pool 'local': created by this migration already"]);
    expect(creates()).toHaveLength(2);
  });

  it('refuses to create over a volume it did not create, and a roll-back never removes it', async () => {
    const { dst, dstLocal } = lab();
    // Put there outside libvirt: the pool lists it only after a refresh, which the creation makes first.
    dstLocal.files.set('web-7.qcow2', { capacityBytes: 1, allocationBytes: 1, format: 'raw' });
    await expect(createDestinationVolumes(dst, MIG, [COPY])).rejects.toBeInstanceOf(ExistingVolumeError);
    expect(await removeCreatedVolumes(dst, MIG, [COPY])).toEqual([]);
    expect(dstLocal.files.has('web-7.qcow2')).toBe(true);
  });

  it('a roll-back removes the volume this migration created, then its marker; a second roll-back does nothing', async () => {
    const { dst, dstLocal } = lab();
    await createDestinationVolumes(dst, MIG, [COPY]);
    expect(await removeCreatedVolumes(dst, MIG, [COPY])).toEqual(["removed web-7.qcow2 from the destination's pool 'local' (created by this migration)"]);
    expect([...dstLocal.files.keys()]).toEqual([]);
    expect(await removeCreatedVolumes(dst, MIG, [COPY])).toEqual([]);
    // Another migration's marker does not make this one's roll-back remove the volume.
    await createDestinationVolumes(dst, MIG, [COPY]);
    expect(await removeCreatedVolumes(dst, '7f000000-0000-4000-8000-000000000002', [COPY])).toEqual([]);
    expect(dstLocal.files.has('web-7.qcow2')).toBe(true);
  });

  it('after a success: the source volume removed, the destination volume kept without its marker', async () => {
    const { src, dst, srcLocal, dstLocal } = lab();
    await createDestinationVolumes(dst, MIG, [COPY]);
    expect(await removeSourceVolumes(src, [COPY])).toEqual(['removed the source volume /srv/local/web-7.qcow2']);
    await dropCreatedMarkers(dst, MIG, [COPY]);
    expect([...srcLocal.files.keys()]).toEqual([]);
    expect([...dstLocal.files.keys()]).toEqual(['web-7.qcow2']);
    expect(await removeSourceVolumes(src, [COPY])).toEqual([]);
  });
});
