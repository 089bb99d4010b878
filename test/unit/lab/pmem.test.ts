import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { labInventoryOf } from '../../../lab/inventory';
import {
  ensurePmemFiles, labPmemAssignmentsDir, labPmemNamespaces, pmemFilePlan, readPmemNamespace, resetPmemNamespace,
} from '../../../lab/pmem';

const MiB = 1024 * 1024;

describe("the lab's persistent-memory namespaces", () => {
  it('ns0, ns1, … of one size, at the same inside path on every host', () => {
    expect(labPmemNamespaces(2, 64)).toEqual([
      { name: 'ns0', path: '/var/lib/libvirt/pmem/ns0', sizeMiB: 64 },
      { name: 'ns1', path: '/var/lib/libvirt/pmem/ns1', sizeMiB: 64 },
    ]);
    expect(labPmemNamespaces(0, 64)).toEqual([]);
  });

  it('refuses a count or a size the lab cannot serve, naming what is allowed', () => {
    expect(() => labPmemNamespaces(17, 64)).toThrow(/from 0 to 16, got 17/);
    expect(() => labPmemNamespaces(1, 63)).toThrow(/even whole number of MiB from 2 to 4096, got 63/);
  });

  it('file plan: create what is absent or empty, keep what has the size, refuse another size (never resized under a guest)', () => {
    const sizes: Record<string, number> = { '/h/ns1': 64 * MiB, '/h/ns2': 0, '/h/ns3': 32 * MiB };
    const plan = pmemFilePlan(['ns0', 'ns1', 'ns2', 'ns3'].map((n) => ({ path: `/h/${n}`, sizeMiB: 64 })), (p) => sizes[p]);
    expect(plan.map((p) => [p.path, p.action])).toEqual([['/h/ns0', 'create'], ['/h/ns1', 'keep'], ['/h/ns2', 'create'], ['/h/ns3', 'refuse']]);
    expect(plan[3]).toMatchObject({ why: `/h/ns3 is ${32 * MiB} bytes, not the ${64 * MiB} of its namespace: remove it (and any lab VM using it) and bring the lab up again` });
  });

  it("the lab's inventory lists them with the host's assignment records directory", () => {
    const rp = '6f1f3c4e-1f0e-4a61-9d9e-0a8f1b2c3d4e';
    const [host] = labInventoryOf([{ name: 'host-a', uuid: rp, pmemNamespaces: labPmemNamespaces(1, 64) }]);
    expect(host!.pmem).toEqual({ namespaces: labPmemNamespaces(1, 64), assignmentsDir: labPmemAssignmentsDir('host-a') });
    expect(labInventoryOf([{ name: 'host-a', uuid: rp, pmemNamespaces: [] }])[0]!.pmem).toBeUndefined();
  });
});

describe('namespace files on disk (a temporary lab dir)', () => {
  let dir = '';
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env.FERRY_LAB_DIR;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-lab-pmem-'));
    process.env.FERRY_LAB_DIR = dir;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.FERRY_LAB_DIR;
    else process.env.FERRY_LAB_DIR = saved;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('creates sparse files of exactly the size under the host dir, once', () => {
    const ns = labPmemNamespaces(2, 64);
    expect(ensurePmemFiles('host-a', ns).map((p) => p.action)).toEqual(['create', 'create']);
    const file = path.join(dir, 'hosts', 'host-a', 'lib', 'pmem', 'ns0');
    expect(fs.statSync(file).size).toBe(64 * MiB);
    expect(fs.statSync(file).blocks * 512).toBeLessThan(MiB); // sparse: no disk until written
    expect(ensurePmemFiles('host-a', ns).map((p) => p.action)).toEqual(['keep', 'keep']);
    fs.truncateSync(file, 32 * MiB);
    expect(() => ensurePmemFiles('host-a', ns)).toThrow(/host host-a: .*ns0 is 33554432 bytes/);
  });

  it('a namespace given to a new guest is emptied, then holds the seed at offset 0', () => {
    const [ns0] = labPmemNamespaces(1, 64);
    ensurePmemFiles('host-a', [ns0!]);
    resetPmemNamespace('host-a', ns0!, Buffer.from('old guest data'));
    resetPmemNamespace('host-a', ns0!, Buffer.from('seed'));
    expect(readPmemNamespace('host-a', ns0!.path, 14).toString('latin1')).toBe('seed' + '\0'.repeat(10));
    expect(fs.statSync(path.join(dir, 'hosts', 'host-a', 'lib', 'pmem', 'ns0')).size).toBe(64 * MiB);
  });
});

describe('lab up options for namespaces', () => {
  it('the default lab has two 64 MiB namespaces per host; a bad count or size is refused before anything starts', async () => {
    const { DEFAULT_LAB, validateLabUpOptions } = await import('../../../lab/lab');
    expect([DEFAULT_LAB.pmemNamespaces, DEFAULT_LAB.pmemNamespaceMiB]).toEqual([2, 64]);
    expect(() => validateLabUpOptions(DEFAULT_LAB)).not.toThrow();
    expect(() => validateLabUpOptions({ ...DEFAULT_LAB, pmemNamespaces: -1 })).toThrow(/pmem namespaces per host must be a whole number from 0 to 16, got -1/);
    expect(() => validateLabUpOptions({ ...DEFAULT_LAB, pmemNamespaceMiB: 65 })).toThrow(/even whole number of MiB/);
  });
});
