import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DestinationXmlError, prepareDestinationXml, vpmemDevicesOfXml } from '../../../activities/libvirt/dest-xml';
import { changedLines, fixture, hostB } from './fixtures';

/** The lab guest with two vPMEM namespaces (test/fixtures/xml/README.md: hand-written in libvirt's form). */
const labVpmem = fs.readFileSync(path.join(__dirname, '..', '..', 'fixtures', 'xml', 'lab-guest-vpmem.xml'), 'utf8');
const dir = '/var/lib/libvirt/pmem';
const facts = { ...hostB, cpuSet: '0-15' };

describe('vPMEM devices of a domain XML', () => {
  it('lists every nvdimm with its backing path and size in MiB, in document order', () => {
    expect(vpmemDevicesOfXml(labVpmem)).toEqual([
      { at: '/domain/devices/memory[1]', model: 'nvdimm', path: `${dir}/ns0`, sizeMiB: 64 },
      { at: '/domain/devices/memory[2]', model: 'nvdimm', path: `${dir}/ns1`, sizeMiB: 64 },
    ]);
    expect(vpmemDevicesOfXml(fixture('pmem-hostdev-vhostuser.xml'))).toEqual([
      { at: '/domain/devices/memory', model: 'nvdimm', path: '/dev/dax0.0', sizeMiB: 1024 },
    ]);
    expect(vpmemDevicesOfXml(fixture('lab-guest.xml'))).toEqual([]);
  });

  it('reads libvirt units (KiB by default) and gives no size for one that is not a whole MiB', () => {
    const sized = (size: string) => vpmemDevicesOfXml(labVpmem.replace("<size unit='KiB'>65536</size>", size))[0]!.sizeMiB;
    expect(sized("<size unit='MiB'>64</size>")).toBe(64);
    expect(sized("<size unit='G'>2</size>")).toBe(2048);
    expect(sized('<size>65536</size>')).toBe(64);
    expect(sized("<size unit='KiB'>65537</size>")).toBeUndefined();
  });
});

describe('prepareDestinationXml with assigned namespaces (facts.pmemAssigned)', () => {
  it('points each nvdimm at the namespace assigned to it, and changes nothing else', () => {
    const r = prepareDestinationXml(labVpmem, { ...facts, pmemAssigned: { [`${dir}/ns0`]: `${dir}/ns1`, [`${dir}/ns1`]: `${dir}/ns3` } });
    expect(changedLines(labVpmem, r.xml)).toEqual([
      { line: 44, from: `<path>${dir}/ns0</path>`, to: `<path>${dir}/ns1</path>` },
      { line: 54, from: `<path>${dir}/ns1</path>`, to: `<path>${dir}/ns3</path>` },
    ]);
    expect(r.changes.map((c) => [c.path, c.why])).toEqual([
      ['/domain/devices/memory[1]/source/path', 'nvdimm backing: the namespace assigned on host-b from the claimed allocation'],
      ['/domain/devices/memory[2]/source/path', 'nvdimm backing: the namespace assigned on host-b from the claimed allocation'],
    ]);
  });

  it('an assignment to the same path (namespace of the same name there) is no change', () => {
    const r = prepareDestinationXml(labVpmem, { ...facts, pmemAssigned: { [`${dir}/ns0`]: `${dir}/ns0`, [`${dir}/ns1`]: `${dir}/ns1` } });
    expect(r.xml).toBe(labVpmem);
    expect(r.changes).toEqual([]);
  });

  it('refuses a device without an assignment rather than keep the source path (another guest may own it there)', () => {
    let err: unknown;
    try {
      prepareDestinationXml(labVpmem, { ...facts, pmemAssigned: { [`${dir}/ns0`]: `${dir}/ns1` } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DestinationXmlError);
    expect((err as DestinationXmlError).problems).toEqual([{
      path: '/domain/devices/memory[2]',
      reason: `vPMEM nvdimm backed by ${dir}/ns1 has no namespace assigned on host-b: each must get one of the namespaces its allocation claimed there`,
    }]);
  });

  it('the assignment wins over pmemPaths and pathMap for vPMEM; without it those still apply', () => {
    const mapped = { pathMap: { [dir]: '/srv/pmem' }, pmemPaths: { [`${dir}/ns0`]: '/dev/dax1.0' } };
    const assigned = prepareDestinationXml(labVpmem, { ...facts, ...mapped, pmemAssigned: { [`${dir}/ns0`]: `${dir}/ns2`, [`${dir}/ns1`]: `${dir}/ns3` } });
    expect(vpmemDevicesOfXml(assigned.xml).map((d) => d.path)).toEqual([`${dir}/ns2`, `${dir}/ns3`]);
    const old = prepareDestinationXml(labVpmem, { ...facts, ...mapped });
    expect(vpmemDevicesOfXml(old.xml).map((d) => d.path)).toEqual(['/dev/dax1.0', '/srv/pmem/ns1']);
  });

  it('keeps what the guest sees: sizes, NUMA node and DIMM slots', () => {
    const r = prepareDestinationXml(labVpmem, { ...facts, pmemAssigned: { [`${dir}/ns0`]: `${dir}/ns1`, [`${dir}/ns1`]: `${dir}/ns0` } });
    expect(vpmemDevicesOfXml(r.xml).map((d) => d.sizeMiB)).toEqual([64, 64]);
    expect(r.xml.match(/<address type='dimm' slot='\d' base='0x[0-9a-f]+'\/>/g)).toEqual(["<address type='dimm' slot='0' base='0x100000000'/>", "<address type='dimm' slot='1' base='0x104000000'/>"]);
    expect(r.xml.match(/<node>0<\/node>/g)).toHaveLength(2);
  });
});
