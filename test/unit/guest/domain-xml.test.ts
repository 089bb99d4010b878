import { describe, it, expect } from 'vitest';
import { guestCmdline, guestDomainXml, type GuestDomainOptions } from '../../../lab/guest/domain-xml';

/** A tiny XML reader for the tests: elements, attributes, text (no DTD, CDATA, comments). */
interface El {
  name: string;
  attrs: Record<string, string>;
  children: El[];
  text: string;
}
const unescape = (s: string): string =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

function parseXml(xml: string): El {
  const root: El = { name: '#root', attrs: {}, children: [], text: '' };
  const stack: El[] = [root];
  const re = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[\w:.-]+\s*=\s*(?:'[^']*'|"[^"]*"))*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let pos = 0;
  while ((m = re.exec(xml))) {
    pos = re.lastIndex;
    const top = stack[stack.length - 1]!;
    if (m[5] !== undefined) {
      top.text += unescape(m[5]);
      continue;
    }
    if (m[1]) {
      if (top.name !== m[2]) throw new Error(`mismatched </${m[2]}> in <${top.name}>`);
      stack.pop();
      continue;
    }
    const el: El = { name: m[2]!, attrs: {}, children: [], text: '' };
    for (const a of m[3]!.matchAll(/([\w:.-]+)\s*=\s*(?:'([^']*)'|"([^"]*)")/g)) {
      el.attrs[a[1]!] = unescape(a[2] ?? a[3]!);
    }
    top.children.push(el);
    if (!m[4]) stack.push(el);
  }
  if (pos !== xml.length) throw new Error(`XML syntax error at ${pos}: ${xml.slice(pos, pos + 30)}`);
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  if (root.children.length !== 1) throw new Error('expected one root element');
  return root.children[0]!;
}

const all = (el: El, name: string): El[] => el.children.filter((c) => c.name === name);
function one(el: El, pathSpec: string): El {
  let cur = el;
  for (const name of pathSpec.split('/')) {
    const found = all(cur, name);
    if (found.length !== 1) throw new Error(`expected one <${name}> in <${cur.name}>, found ${found.length}`);
    cur = found[0]!;
  }
  return cur;
}

const base: GuestDomainOptions = {
  name: 'ferry-g1',
  uuid: '6f1b2d3c-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
  memoryMiB: 256,
  accel: 'tcg',
  kernelPath: '/work/main/lab/guest/build/guest.elf',
  rateMiBps: 50,
  serialLogPath: '/var/log/libvirt/qemu/ferry-g1-serial.log',
};

describe('guestDomainXml', () => {
  it('builds a diskless, NIC-less TCG domain that boots the guest ELF with its command line', () => {
    const d = parseXml(guestDomainXml(base));
    expect(d.name).toBe('domain');
    expect(d.attrs.type).toBe('qemu');
    expect(one(d, 'name').text).toBe('ferry-g1');
    expect(one(d, 'uuid').text).toBe(base.uuid);
    expect(one(d, 'memory').attrs.unit).toBe('MiB');
    expect(one(d, 'memory').text).toBe('256');
    expect(one(d, 'currentMemory').text).toBe('256');
    expect(one(d, 'vcpu').text).toBe('1');
    const type = one(d, 'os/type');
    expect(type.attrs).toEqual({ arch: 'x86_64', machine: 'pc' });
    expect(type.text).toBe('hvm');
    expect(one(d, 'os/kernel').text).toBe(base.kernelPath);
    expect(one(d, 'os/cmdline').text).toBe('rate=50');
    expect(one(d, 'clock').attrs.offset).toBe('utc');
    // The default CPU model: no <cpu> element (host-passthrough / max crashed under KVM).
    expect(all(d, 'cpu')).toHaveLength(0);

    const dev = one(d, 'devices');
    const names = dev.children.map((c) => c.name).sort();
    expect(names).toEqual(['console', 'controller', 'memballoon', 'serial']);
    expect(one(dev, 'memballoon').attrs.model).toBe('none');
    expect(one(dev, 'controller').attrs).toEqual({ type: 'usb', model: 'none' });
    for (const tag of ['disk', 'interface', 'graphics', 'video', 'channel', 'hostdev', 'filesystem']) {
      expect(all(dev, tag)).toHaveLength(0);
    }
  });

  it('logs COM1 to the given file, appending, with the console on the same port', () => {
    const dev = one(parseXml(guestDomainXml(base)), 'devices');
    const serial = one(dev, 'serial');
    expect(serial.attrs.type).toBe('file');
    expect(one(serial, 'source').attrs).toEqual({ path: base.serialLogPath, append: 'on' });
    expect(one(serial, 'target').attrs).toMatchObject({ port: '0' });
    const console = one(dev, 'console');
    expect(console.attrs.type).toBe('file');
    expect(one(console, 'source').attrs.path).toBe(base.serialLogPath);
    expect(one(console, 'target').attrs).toEqual({ type: 'serial', port: '0' });
  });

  it('a vPMEM guest: one shared nvdimm per namespace, ACPI, a NUMA cell, and room above RAM for the devices', () => {
    const vpmem = [{ path: '/var/lib/libvirt/pmem/ns0', sizeMiB: 64 }, { path: '/var/lib/libvirt/pmem/ns1', sizeMiB: 64 }];
    const d = parseXml(guestDomainXml({ ...base, vcpus: 2, vpmem }));
    expect(one(d, 'maxMemory').attrs).toEqual({ slots: '2', unit: 'MiB' });
    expect(one(d, 'maxMemory').text).toBe('384');
    // libvirt counts the devices into the total itself; no balloon, so no currentMemory of our own.
    expect(all(d, 'currentMemory')).toHaveLength(0);
    expect(all(one(d, 'features'), 'acpi')).toHaveLength(1);
    expect(one(d, 'cpu/numa/cell').attrs).toEqual({ id: '0', cpus: '0-1', memory: '256', unit: 'MiB' });
    expect(all(one(d, 'cpu'), 'model')).toHaveLength(0);
    const mems = all(one(d, 'devices'), 'memory');
    expect(mems.map((m) => [m.attrs.model, m.attrs.access, one(m, 'source/path').text, one(m, 'target/size').text, one(m, 'target/node').text]))
      .toEqual([['nvdimm', 'shared', vpmem[0]!.path, '64', '0'], ['nvdimm', 'shared', vpmem[1]!.path, '64', '0']]);
  });

  it('refuses a vPMEM path that is not absolute and a size QEMU would round', () => {
    expect(() => guestDomainXml({ ...base, vpmem: [{ path: 'ns0', sizeMiB: 64 }] })).toThrow(/absolute/);
    expect(() => guestDomainXml({ ...base, vpmem: [{ path: '/p', sizeMiB: 63 }] })).toThrow(/even whole number/);
  });

  it('selects KVM, vCPUs, rate=max and a working set', () => {
    const d = parseXml(guestDomainXml({ ...base, accel: 'kvm', vcpus: 2, rateMiBps: 'max', wssMiB: 64 }));
    expect(d.attrs.type).toBe('kvm');
    expect(one(d, 'vcpu').text).toBe('2');
    expect(one(d, 'os/cmdline').text).toBe('rate=max wss=64');
  });

  it('has no graphics unless asked, and a loopback VNC console with the (escaped) password when asked', () => {
    expect(guestDomainXml(base)).not.toContain('<graphics');
    const xml = guestDomainXml({ ...base, graphicsPassword: "pw'&x" });
    expect(xml).toContain("<graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1' passwd='pw&apos;&amp;x'/>");
    expect(() => parseXml(xml)).not.toThrow();
  });

  it('escapes paths', () => {
    const xml = guestDomainXml({ ...base, kernelPath: "/tmp/a&b/<x>'.elf" });
    expect(one(parseXml(xml), 'os/kernel').text).toBe("/tmp/a&b/<x>'.elf");
  });

  it('rejects bad input', () => {
    expect(() => guestDomainXml({ ...base, name: 'a b' })).toThrow(/name/);
    expect(() => guestDomainXml({ ...base, uuid: 'nope' })).toThrow(/uuid/);
    expect(() => guestDomainXml({ ...base, memoryMiB: 4 })).toThrow(/memoryMiB/);
    expect(() => guestDomainXml({ ...base, vcpus: 0 })).toThrow(/vcpus/);
    expect(() => guestDomainXml({ ...base, kernelPath: 'guest.elf' })).toThrow(/absolute/);
    expect(() => guestDomainXml({ ...base, serialLogPath: 'x.log' })).toThrow(/absolute/);
    expect(() => guestDomainXml({ ...base, rateMiBps: -1 })).toThrow(/rateMiBps/);
    expect(() => guestDomainXml({ ...base, rateMiBps: 1.5 })).toThrow(/rateMiBps/);
    expect(() => guestDomainXml({ ...base, wssMiB: 0 })).toThrow(/wssMiB/);
  });
});

describe('guestDomainXml with a disk', () => {
  const disk = { path: '/var/lib/ferry/shared/g1.raw', format: 'raw', blocksPerSecond: 50 } as const;

  it('adds the primary IDE master, uncached, and disk=N on the command line', () => {
    const d = parseXml(guestDomainXml({ ...base, disk }));
    expect(one(d, 'os/cmdline').text).toBe('rate=50 disk=50');
    const el = one(d, 'devices/disk');
    expect(el.attrs).toEqual({ type: 'file', device: 'disk' });
    expect(one(el, 'driver').attrs).toEqual({ name: 'qemu', type: 'raw', cache: 'none' });
    expect(one(el, 'source').attrs).toEqual({ file: disk.path });
    expect(one(el, 'target').attrs).toEqual({ dev: 'hda', bus: 'ide' });
  });

  it('takes qcow2, directsync and escapes the path', () => {
    const el = one(parseXml(guestDomainXml({ ...base, disk: { path: "/d/a'&b.qcow2", format: 'qcow2', blocksPerSecond: 1, cache: 'directsync' } })), 'devices/disk');
    expect(one(el, 'driver').attrs).toEqual({ name: 'qemu', type: 'qcow2', cache: 'directsync' });
    expect(one(el, 'source').attrs.file).toBe("/d/a'&b.qcow2");
  });

  it('leaves the XML of a guest without a disk as it was', () => {
    const without = guestDomainXml(base);
    const withDisk = guestDomainXml({ ...base, disk });
    expect(without).not.toContain('<disk');
    expect(withDisk.replace(/\n    <disk [\s\S]*?<\/disk>/, '').replace('rate=50 disk=50', 'rate=50')).toBe(without);
  });

  it('refuses a bad disk, naming the field and what is allowed', () => {
    expect(() => guestDomainXml({ ...base, disk: { ...disk, path: 'g1.raw' } })).toThrow(/disk.path must be absolute: g1.raw/);
    expect(() => guestDomainXml({ ...base, disk: { ...disk, format: 'vmdk' as 'raw' } })).toThrow(/disk.format must be 'raw' or 'qcow2', got "vmdk"/);
    expect(() => guestDomainXml({ ...base, disk: { ...disk, cache: 'writeback' as 'none' } })).toThrow(/disk.cache must be 'none' or 'directsync'.*got "writeback"/);
    expect(() => guestDomainXml({ ...base, disk: { ...disk, blocksPerSecond: 0 } })).toThrow(/disk.blocksPerSecond must be an integer from 1 to 1000, got 0/);
    expect(() => guestDomainXml({ ...base, disk: { ...disk, blocksPerSecond: 1001 } })).toThrow(/got 1001/);
    expect(() => guestDomainXml({ ...base, disk: { ...disk, blocksPerSecond: 2.5 } })).toThrow(/got 2.5/);
  });
});

describe('guestCmdline', () => {
  it('formats the parameters the guest parses', () => {
    expect(guestCmdline(0)).toBe('rate=0');
    expect(guestCmdline('max')).toBe('rate=max');
    expect(guestCmdline(20, 256)).toBe('rate=20 wss=256');
    expect(guestCmdline('max', 16, 8)).toBe('rate=max wss=16 drift=8');
    expect(guestCmdline('max', 16, 0)).toBe('rate=max wss=16');
    expect(() => guestCmdline('max', undefined, 8)).toThrow(/driftMiBps needs wssMiB/);
    expect(() => guestCmdline('max', 16, -1)).toThrow(/driftMiBps/);
    expect(guestCmdline(0, undefined, undefined, 25)).toBe('rate=0 disk=25');
    expect(guestCmdline(5, 16, 2, 1000)).toBe('rate=5 wss=16 drift=2 disk=1000');
  });
});
