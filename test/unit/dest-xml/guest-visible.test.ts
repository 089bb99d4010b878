import { describe, expect, it } from 'vitest';
import {
  GuestVisibleChangeError,
  prepareDestinationXml,
  verifyGuestVisibleUnchanged,
} from '../../../activities/libvirt/dest-xml';
import { fixture, hostB } from './fixtures';

const pinned = fixture('pinned-vnc-tcp-serial.xml');
const devices = fixture('pmem-hostdev-vhostuser.xml');

function tamperError(source: string, from: string, to: string, opts = {}): GuestVisibleChangeError {
  expect(source).toContain(from);
  try {
    verifyGuestVisibleUnchanged(source, source.replace(from, to), opts);
  } catch (err) {
    if (err instanceof GuestVisibleChangeError) return err;
    throw err;
  }
  throw new Error(`tampering ${from} -> ${to} went unnoticed`);
}

describe('guest-visible invariants', () => {
  it('accepts the real rewrite of every host-specific part', () => {
    const r = prepareDestinationXml(pinned, {
      ...hostB,
      cpuSet: '4-7',
      numaNodes: [2],
      pathMap: { '/var/lib/libvirt': '/srv/libvirt', '/srv/shared': '/mnt/shared', '/var/log/libvirt': '/var/log/x' },
    });
    expect(r.changes.length).toBeGreaterThan(10);
    expect(() => verifyGuestVisibleUnchanged(pinned, r.xml)).not.toThrow();
  });

  const tampers: Array<[string, string, string, string]> = [
    ['uuid', '<uuid>5d1c2a7e-3f4b-4c1d-9a6e-1b2c3d4e5f60</uuid>', '<uuid>5d1c2a7e-3f4b-4c1d-9a6e-1b2c3d4e5f61</uuid>', '/domain/uuid'],
    ['name', '<name>xmlfix-full</name>', '<name>other</name>', '/domain/name'],
    ['memory', "<memory unit='KiB'>1048576</memory>", "<memory unit='KiB'>2097152</memory>", '/domain/memory'],
    ['current memory', "<currentMemory unit='KiB'>1048576</currentMemory>", "<currentMemory unit='KiB'>524288</currentMemory>", '/domain/currentMemory'],
    ['vCPU count', "cpuset='0-1'>2</vcpu>", "cpuset='0-1'>4</vcpu>", '/domain/vcpu'],
    ['machine type', "machine='pc-q35-7.2'", "machine='pc-q35-8.0'", '/domain/os/type'],
    ['CPU model', '<model fallback=\'forbid\'>qemu64</model>', '<model fallback=\'forbid\'>Skylake-Server</model>', '/domain/cpu'],
    ['CPU feature', "<feature policy='require' name='x2apic'/>", "<feature policy='disable' name='x2apic'/>", '/domain/cpu'],
    ['guest NUMA cell', "<cell id='0' cpus='0-1'", "<cell id='0' cpus='0'", '/domain/cpu'],
    ['disk PCI address', "bus='0x04' slot='0x00' function='0x0'/>", "bus='0x04' slot='0x01' function='0x0'/>", "/domain/devices/disk[1]/address"],
    ['drive address', "<address type='drive' controller='0' bus='0' target='0' unit='0'/>", "<address type='drive' controller='0' bus='0' target='0' unit='1'/>", '/domain/devices/disk[3]/address'],
    ['disk target', "<target dev='vdb' bus='virtio'/>", "<target dev='vdc' bus='virtio'/>", '/domain/devices/disk[2]/target'],
    ['disk bus', "<target dev='sda' bus='sata'/>", "<target dev='sda' bus='scsi'/>", '/domain/devices/disk[3]/target'],
    ['disk serial', '<serial>root-disk</serial>', '<serial>other</serial>', '/domain/devices/disk[1]/serial'],
    ['MAC', "<mac address='52:54:00:aa:bb:01'/>", "<mac address='52:54:00:aa:bb:02'/>", '/domain/devices/interface/mac'],
    ['MTU', "<mtu size='9000'/>", "<mtu size='1500'/>", '/domain/devices/interface/mtu'],
    ['NIC model', "<model type='virtio'/>\n      <mtu", "<model type='e1000e'/>\n      <mtu", '/domain/devices/interface/model'],
    ['NIC PCI address', "bus='0x01' slot='0x00'", "bus='0x07' slot='0x00'", '/domain/devices/interface/address'],
    ['serial target port', "<target type='isa-serial' port='1'>", "<target type='isa-serial' port='2'>", '/domain/devices/serial[2]/target'],
    ['controller', "<controller type='pci' index='7' model='pcie-root-port'>", "<controller type='pci' index='7' model='pcie-to-pci-bridge'>", '/domain/devices/controller[10]'],
    ['video', "<model type='vga' vram='16384'", "<model type='vga' vram='8192'", '/domain/devices/video'],
    ['a removed device', "    <input type='mouse' bus='ps2'/>\n", '', '/domain/devices/*'],
  ];

  it.each(tampers)('detects a changed %s', (_what, from, to, path) => {
    const err = tamperError(pinned, from, to);
    expect(err.problems.map((p) => p.path)).toContain(path);
    expect(err.message).toMatch(/changes what the guest sees/);
  });

  it('detects a changed DIMM slot, memory device size and hostdev guest address, but not the host side of a hostdev', () => {
    expect(tamperError(devices, "<address type='dimm' slot='0'/>", "<address type='dimm' slot='1'/>").problems[0]!.path).toBe(
      '/domain/devices/memory/address',
    );
    expect(tamperError(devices, "<size unit='KiB'>1048576</size>", "<size unit='KiB'>2097152</size>").problems[0]!.path).toBe(
      '/domain/devices/memory/target',
    );
    expect(tamperError(devices, "bus='0x04' slot='0x00'", "bus='0x05' slot='0x00'").problems[0]!.path).toBe('/domain/devices/hostdev/address');
    const hostSide = devices.replace("bus='0x3b' slot='0x00' function='0x1'", "bus='0x3c' slot='0x00' function='0x1'");
    expect(() => verifyGuestVisibleUnchanged(devices, hostSide)).not.toThrow();
  });

  it('allows exactly the requested destination name', () => {
    const renamed = pinned.replace('<name>xmlfix-full</name>', '<name>xmlfix-full-b</name>');
    expect(() => verifyGuestVisibleUnchanged(pinned, renamed, { destName: 'xmlfix-full-b' })).not.toThrow();
    expect(tamperError(pinned, '<name>xmlfix-full</name>', '<name>wrong</name>', { destName: 'xmlfix-full-b' }).problems[0]!.reason).toBe(
      "expected 'xmlfix-full-b', destination 'wrong'",
    );
    const r = prepareDestinationXml(pinned, hostB, { destName: 'xmlfix-full-b' });
    expect(r.changes.find((c) => c.path === '/domain/name')).toEqual({
      path: '/domain/name',
      from: 'xmlfix-full',
      to: 'xmlfix-full-b',
      why: 'renamed on the destination (destName)',
    });
  });

  it('host-side rewrites alone are not guest-visible', () => {
    const hostOnly = pinned
      .replaceAll('10.77.0.13', '10.77.0.12')
      .replace('/var/lib/libvirt/images/', '/srv/images/')
      .replace("<vcpupin vcpu='0' cpuset='0'/>", "<vcpupin vcpu='0' cpuset='3'/>")
      .replace("<memory mode='strict' nodeset='0'/>", "<memory mode='strict' nodeset='1'/>");
    expect(() => verifyGuestVisibleUnchanged(pinned, hostOnly)).not.toThrow();
  });
});
