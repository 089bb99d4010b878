import { describe, expect, it } from 'vitest';
import {
  DestinationXmlError,
  prepareDestinationXml,
  type Change,
  type DestinationFacts,
  type PrepareOptions,
} from '../../../activities/libvirt/dest-xml';
import { changedLines, fixture, hostB } from './fixtures';

const pinned = fixture('pinned-vnc-tcp-serial.xml');
const devices = fixture('pmem-hostdev-vhostuser.xml');
const labGuest = fixture('lab-guest.xml');

/** The devices fixture is refused as it stands; these make it migratable. */
const devicesOk: PrepareOptions = { allowHostdev: true };
const devicesFacts: DestinationFacts = { ...hostB, pathMap: { '/run/openvswitch': '/run/openvswitch' } };


function refusal(fn: () => unknown): DestinationXmlError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DestinationXmlError) return err;
    throw err;
  }
  throw new Error('expected a DestinationXmlError');
}

describe('prepareDestinationXml: nothing to do', () => {
  it('changes nothing when the destination already fits (lab guest, no pathMap)', () => {
    const r = prepareDestinationXml(labGuest, hostB);
    expect(r.changes).toEqual([]);
    expect(r.xml).toBe(labGuest);
  });

  it('does not mutate its inputs', () => {
    const facts = structuredClone({ ...hostB, pathMap: { '/var/lib/libvirt/images': '/srv/images' } });
    const copy = structuredClone(facts);
    prepareDestinationXml(pinned, facts);
    expect(facts).toEqual(copy);
  });
});

describe('graphics listen', () => {
  it('moves VNC listen (attribute and <listen>) to the destination-reported address, and nothing else', () => {
    const r = prepareDestinationXml(pinned, { ...hostB, migrationAddress: '10.77.0.99', graphicsListen: '10.77.0.12' }, {});
    const graphics = r.changes.filter((c) => c.path.includes('graphics'));
    expect(graphics).toEqual([
      { path: '/domain/devices/graphics/@listen', from: '10.77.0.13', to: '10.77.0.12', why: 'host-b reported its graphics listen address' },
      { path: '/domain/devices/graphics/listen/@address', from: '10.77.0.13', to: '10.77.0.12', why: 'host-b reported its graphics listen address' },
    ]);
    expect(changedLines(pinned, r.xml).filter((l) => l.from.includes('graphics') || l.from.includes('<listen'))).toEqual([
      { line: 140, from: "<graphics type='vnc' port='-1' autoport='yes' listen='10.77.0.13'>", to: "<graphics type='vnc' port='-1' autoport='yes' listen='10.77.0.12'>" },
      { line: 141, from: "<listen type='address' address='10.77.0.13'/>", to: "<listen type='address' address='10.77.0.12'/>" },
    ]);
  });

  it('moves SPICE listen too', () => {
    const r = prepareDestinationXml(devices, devicesFacts, devicesOk);
    expect(r.changes.filter((c) => c.path.includes('graphics')).map((c) => [c.path, c.to])).toEqual([
      ['/domain/devices/graphics/@listen', '10.77.0.12'],
      ['/domain/devices/graphics/listen/@address', '10.77.0.12'],
    ]);
  });

  it('without a reported address, falls back to loopback and never keeps the source address', () => {
    const { graphicsListen: _unused, ...facts } = hostB;
    const r = prepareDestinationXml(pinned, facts);
    const graphics = r.changes.filter((c) => c.path.includes('graphics'));
    expect(graphics.map((c) => c.to)).toEqual(['127.0.0.1', '127.0.0.1']);
    expect(graphics[0]!.why).toMatch(/address of the source host.*reported no graphics listen address/);
    expect(r.xml).not.toMatch(/listen='10\.77\.0\.13'|address='10\.77\.0\.13'/);
  });

  it('without a reported address, keeps wildcard and loopback listens', () => {
    const { graphicsListen: _unused, ...facts } = hostB;
    for (const address of ['0.0.0.0', '127.0.0.1', '::']) {
      const source = pinned.replaceAll("listen='10.77.0.13'", `listen='${address}'`).replaceAll("address='10.77.0.13'", `address='${address}'`);
      const r = prepareDestinationXml(source, facts);
      expect(r.changes.filter((c) => c.path.includes('graphics')), address).toEqual([]);
    }
  });
});

describe('serial ports and consoles', () => {
  it('moves a tcp serial/console bound to the source address to the destination migration address, keeping the port', () => {
    const r = prepareDestinationXml(pinned, hostB);
    expect(r.changes.filter((c) => /serial|console/.test(c.path))).toEqual([
      {
        path: '/domain/devices/serial[1]/source/@host',
        from: '10.77.0.13',
        to: '10.77.0.12',
        why: "the source host's address '10.77.0.13' cannot be bound on host-b",
      },
      {
        path: '/domain/devices/console/source/@host',
        from: '10.77.0.13',
        to: '10.77.0.12',
        why: "the source host's address '10.77.0.13' cannot be bound on host-b",
      },
    ]);
    expect(r.xml.match(/<source mode='bind' host='10\.77\.0\.12' service='4555'\/>/g)).toHaveLength(2);
  });

  it('keeps udp wildcard binds; moves a connect to the source host only when told the source addresses', () => {
    const keep = prepareDestinationXml(devices, devicesFacts, devicesOk);
    expect(keep.changes.filter((c) => /serial|console/.test(c.path))).toEqual([]);
    const moved = prepareDestinationXml(devices, devicesFacts, { ...devicesOk, sourceAddresses: ['10.77.0.13'] });
    expect(moved.changes.filter((c) => /serial|console/.test(c.path)).map((c) => [c.path, c.from, c.to])).toEqual([
      ['/domain/devices/serial/source[2]/@host', '10.77.0.13', '10.77.0.12'],
      ['/domain/devices/console/source[2]/@host', '10.77.0.13', '10.77.0.12'],
    ]);
  });

  it('maps file serial paths through pathMap (lab guest)', () => {
    const r = prepareDestinationXml(labGuest, { ...hostB, pathMap: { '/var/log/libvirt/qemu/': '/var/log/ferry/' } });
    expect(r.changes.map((c) => [c.path, c.to])).toEqual([
      ['/domain/devices/serial/source/@path', '/var/log/ferry/demo1-serial.log'],
      ['/domain/devices/console/source/@path', '/var/log/ferry/demo1-serial.log'],
    ]);
    expect(changedLines(labGuest, r.xml).map((l) => l.to)).toEqual([
      "<source path='/var/log/ferry/demo1-serial.log' append='on'/>",
      "<source path='/var/log/ferry/demo1-serial.log' append='on'/>",
    ]);
  });
});

describe('host paths', () => {
  it('maps disk, kernel, initrd and chardev files under mapped prefixes only', () => {
    const facts = {
      ...hostB,
      pathMap: { '/var/lib/libvirt/images': '/srv/images', '/var/lib/libvirt/boot': '/srv/boot', '/var/lib/libvirt/image': '/nope' },
    };
    const r = prepareDestinationXml(pinned, facts);
    expect(r.changes.filter((c) => !/graphics|serial|console/.test(c.path)).map((c) => [c.path, c.from, c.to])).toEqual([
      ['/domain/devices/disk[1]/source/@file', '/var/lib/libvirt/images/xmlfix-root.qcow2', '/srv/images/xmlfix-root.qcow2'],
      ['/domain/os/kernel', '/var/lib/libvirt/boot/vmlinuz-fixture', '/srv/boot/vmlinuz-fixture'],
      ['/domain/os/initrd', '/var/lib/libvirt/boot/initrd-fixture.img', '/srv/boot/initrd-fixture.img'],
    ]);
    // the unmapped disk stays where it is
    expect(r.xml).toContain("<source file='/srv/shared/xmlfix-data.raw'/>");
    expect(r.xml).toContain('<kernel>/srv/boot/vmlinuz-fixture</kernel>');
  });

  it('maps firmware, NVRAM, block devices, vPMEM (pmemPaths first) and vhost-user sockets', () => {
    const facts: DestinationFacts = {
      ...hostB,
      pathMap: {
        '/usr/share/OVMF': '/usr/share/edk2/ovmf',
        '/var/lib/libvirt/qemu/nvram': '/srv/nvram',
        '/dev/mapper': '/dev/disk/by-id',
        '/run/openvswitch': '/var/run/ovs',
      },
      pmemPaths: { '/dev/dax0.0': '/dev/dax1.0' },
    };
    const r = prepareDestinationXml(devices, facts, devicesOk);
    expect(r.changes.filter((c) => !/graphics/.test(c.path)).map((c) => [c.path, c.to])).toEqual([
      ['/domain/devices/disk/source/@dev', '/dev/disk/by-id/xmlfix-vol'],
      ['/domain/os/loader', '/usr/share/edk2/ovmf/OVMF_CODE.fd'],
      ['/domain/os/nvram', '/srv/nvram/xmlfix-devices_VARS.fd'],
      ['/domain/devices/memory/source/path', '/dev/dax1.0'],
      ['/domain/devices/interface/source/@path', '/var/run/ovs/vhu-xmlfix'],
    ]);
    expect(r.changes.find((c) => c.path.includes('memory'))!.why).toBe('nvdimm backing: host-b reported its vPMEM path');
  });

  it('rejects chained path maps, which would make the rewrite depend on how often it ran', () => {
    const err = refusal(() => prepareDestinationXml(pinned, { ...hostB, pathMap: { '/a': '/b', '/b': '/c' } }));
    expect(err.message).toMatch(/invalid destination facts/);
    expect(err.problems[0]!.reason).toMatch(/'\/a' maps to '\/b', which '\/b' maps again to '\/c'/);
  });
});

describe('CPU pinning and NUMA', () => {
  const cpuChanges = (facts: DestinationFacts) =>
    prepareDestinationXml(pinned, facts)
      .changes.filter((c) => c.path.startsWith('/domain/cputune') || c.path.startsWith('/domain/vcpu'))
      .map((c) => [c.path, c.from, c.to]);

  it('keeps pinning that fits the destination CPU set', () => {
    expect(cpuChanges({ ...hostB, cpuSet: '0-7' })).toEqual([]);
  });

  it('remaps in order when the pinned CPUs are not available, keeping one host CPU per vCPU', () => {
    expect(cpuChanges({ ...hostB, cpuSet: '4-7' })).toEqual([
      ['/domain/vcpu/@cpuset', '0-1', '4-5'],
      ["/domain/cputune/vcpupin[@vcpu='0']/@cpuset", '0', '4'],
      ["/domain/cputune/vcpupin[@vcpu='1']/@cpuset", '1', '5'],
      ['/domain/cputune/emulatorpin/@cpuset', '0-1', '4-5'],
      ["/domain/cputune/iothreadpin[@iothread='1']/@cpuset", '1', '5'],
    ]);
    expect(cpuChanges({ ...hostB, cpuSet: '0,2' })).toEqual([
      ['/domain/vcpu/@cpuset', '0-1', '0,2'],
      ["/domain/cputune/vcpupin[@vcpu='1']/@cpuset", '1', '2'],
      ['/domain/cputune/emulatorpin/@cpuset', '0-1', '0,2'],
      ["/domain/cputune/iothreadpin[@iothread='1']/@cpuset", '1', '2'],
    ]);
  });

  it('pins to the whole set, saying so, when the destination offers fewer CPUs than the source uses', () => {
    const r = prepareDestinationXml(pinned, { ...hostB, cpuSet: '6' });
    const cpu = r.changes.filter((c) => c.path.startsWith('/domain/cputune') || c.path.startsWith('/domain/vcpu'));
    expect(cpu.map((c) => c.to)).toEqual(['6', '6', '6', '6', '6']);
    expect(cpu[0]!.why).toMatch(/pins onto 2 host CPUs, host-b offers 1 \(6\).*no longer own a host CPU/);
  });

  it('refuses pinning it cannot check, naming each element', () => {
    const { cpuSet: _unused, ...facts } = hostB;
    const err = refusal(() => prepareDestinationXml(pinned, facts));
    expect(err.problems.map((p) => p.path)).toEqual([
      '/domain/vcpu',
      "/domain/cputune/vcpupin[@vcpu='0']",
      "/domain/cputune/vcpupin[@vcpu='1']",
      '/domain/cputune/emulatorpin',
      "/domain/cputune/iothreadpin[@iothread='1']",
    ]);
    expect(err.message).toMatch(/domain 'xmlfix-full' cannot be migrated to host-b/);
    expect(err.problems[1]!.reason).toBe(
      'pins to host CPUs 0 but host-b reported no CPU set available for pinning, so the pinning cannot be checked or remapped',
    );
  });

  it('remaps NUMA nodesets to the nodes the destination has', () => {
    const r = prepareDestinationXml(pinned, { ...hostB, numaNodes: [1, 3] });
    expect(r.changes.map((c) => [c.path, c.from, c.to]).filter(([p]) => p!.startsWith('/domain/numatune'))).toEqual([
      ['/domain/numatune/memory/@nodeset', '0', '1'],
      ["/domain/numatune/memnode[@cellid='0']/@nodeset", '0', '1'],
    ]);
  });

  it('refuses NUMA bindings the destination cannot hold, naming the elements', () => {
    const twoNodes = pinned.replace("<memory mode='strict' nodeset='0'/>", "<memory mode='strict' nodeset='0-1'/>");
    const err = refusal(() => prepareDestinationXml(twoNodes, { ...hostB, numaNodes: [0] }));
    expect(err.problems.map((p) => p.path)).toEqual(['/domain/numatune/memory', "/domain/numatune/memnode[@cellid='0']"]);
    expect(err.problems[0]!.reason).toMatch(/uses 2 nodes \(0-1\) and host-b offers NUMA nodes 0/);
    const none = refusal(() => prepareDestinationXml(pinned, { ...hostB, numaNodes: [] }));
    expect(none.problems[0]!.reason).toMatch(/host-b offers no NUMA nodes/);
  });

  it('never touches guest CPUs or guest NUMA cells', () => {
    const r = prepareDestinationXml(pinned, { ...hostB, cpuSet: '4-7', numaNodes: [2] });
    expect(r.xml).toContain("<cell id='0' cpus='0-1' memory='1048576' unit='KiB'/>");
    expect(r.xml).toContain("<vcpupin vcpu='1' cpuset='5'/>");
    expect(r.xml).toContain("<memnode cellid='0' mode='strict' nodeset='2'/>");
  });
});

describe('nothing else changes', () => {
  it('the text differs only on the lines of recorded changes', () => {
    const facts: DestinationFacts = {
      ...hostB,
      cpuSet: '4-7',
      numaNodes: [1],
      pathMap: { '/var/lib/libvirt/images': '/srv/images', '/var/lib/libvirt/boot': '/srv/boot', '/var/log/libvirt/qemu': '/var/log/q' },
    };
    const r = prepareDestinationXml(pinned, facts, { destName: 'xmlfix-full-b' });
    const lines = changedLines(pinned, r.xml);
    // one changed line per recorded change, and each line differs by exactly that change
    expect(lines).toHaveLength(r.changes.length);
    const applied = (line: string, c: Change) => {
      const attribute = /@([\w:-]+)$/.exec(c.path)?.[1];
      return attribute ? line.replace(`${attribute}='${c.from}'`, `${attribute}='${c.to}'`) : line.replace(`>${c.from}<`, `>${c.to}<`);
    };
    for (const l of lines) expect(r.changes.some((c) => applied(l.from, c) === l.to), l.from).toBe(true);
    for (const c of r.changes) expect(lines.some((l) => applied(l.from, c) === l.to), c.path).toBe(true);
  });
});

describe('refusals', () => {
  it('refuses PCI passthrough and unmapped vhost-user together, naming both', () => {
    const err = refusal(() => prepareDestinationXml(devices, hostB));
    expect(err.problems).toEqual([
      {
        path: '/domain/devices/hostdev',
        reason: "PCI passthrough (VFIO) device 0000:3b:00.1 cannot be live-migrated (QEMU cannot move a physical device's state): detach it first",
      },
      {
        path: '/domain/devices/interface/source',
        reason:
          "vhost-user interface 52:54:00:aa:bb:02 uses the socket '/run/openvswitch/vhu-xmlfix' of the source host's switch and no pathMap " +
          "prefix says where host-b's is (map the prefix, to itself if it is the same path)",
      },
    ]);
    expect(err.nonRetryable).toBe(true);
  });

  it('allowHostdev keeps the host device untouched', () => {
    const r = prepareDestinationXml(devices, devicesFacts, devicesOk);
    expect(r.xml).toContain("<address domain='0x0000' bus='0x3b' slot='0x00' function='0x1'/>");
  });

  it('refuses an SR-IOV interface (type=hostdev) like a hostdev', () => {
    const sriov = labGuest.replace(
      '<input ',
      "<interface type='hostdev' managed='yes'><mac address='52:54:00:00:00:09'/><source><address type='pci' domain='0x0000' bus='0x81' slot='0x10' function='0x2'/></source></interface>\n    <input ",
    );
    const err = refusal(() => prepareDestinationXml(sriov, hostB));
    expect(err.problems[0]!.reason).toMatch(/^SR-IOV interface \(PCI 0000:81:10\.2\) cannot be live-migrated/);
  });

  it('with storage not shared, refuses local file disks that no pathMap or shared prefix covers, naming the disk', () => {
    const facts = { ...hostB, pathMap: { '/var/lib/libvirt/images': '/var/lib/libvirt/images' } };
    const err = refusal(() => prepareDestinationXml(pinned, facts, { sharedStorage: false }));
    expect(err.problems).toEqual([
      {
        path: '/domain/devices/disk[2]/source',
        reason:
          "disk vdb is the local file '/srv/shared/xmlfix-data.raw', storage is not shared and no pathMap prefix covers it: " +
          'copy it to the destination and map its path, or migrate with shared storage',
      },
    ]);
    // the empty CD-ROM has no file and is fine; a shared prefix clears vdb
    expect(() => prepareDestinationXml(pinned, facts, { sharedStorage: false, sharedPathPrefixes: ['/srv/shared'] })).not.toThrow();
    // shared storage (the default) checks nothing
    expect(() => prepareDestinationXml(pinned, hostB)).not.toThrow();
  });

  it('refuses what is not a domain XML, or invalid facts, with the field named', () => {
    expect(refusal(() => prepareDestinationXml('<domain>', hostB)).problems[0]!.reason).toMatch(/not well-formed/);
    expect(refusal(() => prepareDestinationXml('<network/>', hostB)).problems[0]!.reason).toBe('the root element is not <domain>');
    const bad = refusal(() => prepareDestinationXml(labGuest, { ...hostB, cpuSet: 'all' }));
    expect(bad.problems).toEqual([{ path: 'cpuSet', reason: "must be a libvirt CPU set such as '0-3,6'" }]);
    const partial = { hostName: 'host-b' } as unknown as DestinationFacts;
    expect(refusal(() => prepareDestinationXml(labGuest, partial)).problems.map((p) => p.path)).toEqual(['migrationAddress', 'numaNodes']);
    const relative = refusal(() => prepareDestinationXml(labGuest, { ...hostB, pathMap: { 'images/': '/srv/images' } }));
    expect(relative.problems).toEqual([{ path: 'pathMap.images/', reason: 'key: must be an absolute path' }]);
  });
});

describe('idempotence', () => {
  const cases: Array<[string, string, DestinationFacts, PrepareOptions]> = [
    ['pinned, remapped', pinned, { ...hostB, cpuSet: '4-7', numaNodes: [3], pathMap: { '/var/lib/libvirt': '/srv/libvirt' } }, { destName: 'b' }],
    ['pinned, whole set + loopback', pinned, { hostName: 'host-b', migrationAddress: '10.77.0.12', numaNodes: [0], cpuSet: '3' }, {}],
    ['devices', devices, { ...devicesFacts, pmemPaths: { '/dev/dax0.0': '/dev/dax1.0' } }, { ...devicesOk, sourceAddresses: ['10.77.0.13'] }],
    ['lab guest', labGuest, { ...hostB, pathMap: { '/var/log/libvirt': '/var/log/ferry' } }, {}],
  ];

  it.each(cases)('rewriting twice is rewriting once: %s', (_name, source, facts, opts) => {
    const once = prepareDestinationXml(source, facts, opts);
    expect(once.changes.length).toBeGreaterThan(0);
    const twice = prepareDestinationXml(once.xml, facts, opts);
    expect(twice.xml).toBe(once.xml);
    expect(twice.changes).toEqual([]);
  });
});
