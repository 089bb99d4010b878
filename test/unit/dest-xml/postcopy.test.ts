import { describe, expect, it } from 'vitest';
import { postcopyBlockers } from '../../../activities/libvirt/dest-xml';
import { fixture } from './fixtures';

describe('postcopyBlockers', () => {
  it('finds nothing in guests without vPMEM or passthrough', () => {
    expect(postcopyBlockers(fixture('lab-guest.xml'))).toEqual([]);
    expect(postcopyBlockers(fixture('pinned-vnc-tcp-serial.xml'))).toEqual([]);
  });

  it('names vPMEM and VFIO devices', () => {
    expect(postcopyBlockers(fixture('pmem-hostdev-vhostuser.xml'))).toEqual([
      '/domain/devices/memory: vPMEM nvdimm backed by /dev/dax0.0: persistent memory cannot be fetched on demand after the switch',
      "/domain/devices/hostdev: PCI passthrough (VFIO) device 0000:3b:00.1: a passthrough device's DMA writes cannot be tracked by post-copy",
    ]);
  });

  it('counts an nvdimm backed by an ordinary file too (no <pmem/>: the lab namespaces), and virtio-pmem', () => {
    // A shared file mapping is what post-copy's userfaultfd cannot serve, and the namespace is the guest's durable state.
    const fileBacked = fixture('pmem-hostdev-vhostuser.xml').replace('        <pmem/>\n', '');
    expect(postcopyBlockers(fileBacked).filter((b) => b.includes('vPMEM'))).toEqual([
      '/domain/devices/memory: vPMEM nvdimm backed by /dev/dax0.0: persistent memory cannot be fetched on demand after the switch',
    ]);
    const virtioPmem = fixture('lab-guest.xml').replace(
      '<input ',
      "<memory model='virtio-pmem' access='shared'><source><path>/srv/pmem.img</path></source><target><size unit='MiB'>64</size></target></memory>\n    <input ",
    );
    expect(postcopyBlockers(virtioPmem)).toEqual([
      '/domain/devices/memory: vPMEM virtio-pmem backed by /srv/pmem.img: persistent memory cannot be fetched on demand after the switch',
    ]);
  });

  it('does not count ordinary DIMMs (memory hotplug)', () => {
    const dimm = fixture('lab-guest.xml').replace(
      '<input ',
      "<memory model='dimm'><target><size unit='MiB'>128</size><node>0</node></target></memory>\n    <input ",
    );
    expect(postcopyBlockers(dimm)).toEqual([]);
  });

  it('counts an SR-IOV interface (type=hostdev)', () => {
    const sriov = fixture('lab-guest.xml').replace(
      '<input ',
      "<interface type='hostdev'><source><address type='pci' domain='0x0000' bus='0x81' slot='0x10' function='0x2'/></source></interface>\n    <input ",
    );
    expect(postcopyBlockers(sriov)).toEqual([
      "/domain/devices/interface: SR-IOV interface (PCI 0000:81:10.2): a passthrough device's DMA writes cannot be tracked by post-copy",
    ]);
  });
});
