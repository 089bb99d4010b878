/**
 * assignDestinationPmem against a stub destination host, the fake Placement and a real records
 * directory: facts are read, the pure decision applied, records written; two migrations deciding
 * at the same moment for the same namespace end with two different ones.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../../activities/deps';
import { Inventory } from '../../../activities/hosts';
import { PlacementClient } from '../../../activities/placement';
import { assignDestinationPmem } from '../../../activities/pmem/assign';
import { PmemAssignmentRecords } from '../../../activities/pmem/records';
import { FakePlacement } from '../placement/fake-placement';

const PMEM = 'CUSTOM_PMEM_NAMESPACE_64MB';
const RP_B = '22222222-2222-4222-8222-222222222222';
const RP_A = '11111111-1111-4111-8111-111111111111';
const VM1 = { name: 'db-1', uuid: 'aaaaaaaa-0000-4000-8000-000000000001' };
const VM2 = { name: 'db-2', uuid: 'aaaaaaaa-0000-4000-8000-000000000002' };
const M1 = 'bbbbbbbb-0000-4000-8000-000000000001';
const M2 = 'bbbbbbbb-0000-4000-8000-000000000002';
const dir = '/var/lib/libvirt/pmem';

const nvdimm = (p: string) => `<memory model='nvdimm' access='shared'><source><path>${p}</path></source><target><size unit='KiB'>65536</size><node>0</node></target></memory>`;
const domainXml = (name: string, devices = '') => `<domain type='qemu'><name>${name}</name><memory unit='KiB'>131072</memory><devices>${devices}</devices></domain>`;
const sourceXml = domainXml('db', nvdimm(`${dir}/ns0`));

let tmp = '';
beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-pmem-assign-')); });
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

function setup() {
  const fake = new FakePlacement();
  fake.addProvider(RP_A, 'host-a', { VCPU: 8, MEMORY_MB: 4096, [PMEM]: 2 });
  fake.addProvider(RP_B, 'host-b', { VCPU: 8, MEMORY_MB: 4096, [PMEM]: 2 });
  // Both VMs have claimed one namespace on host-b (their migrations' claims).
  fake.setConsumer(VM1.uuid, { [RP_B]: { VCPU: 1, MEMORY_MB: 128, [PMEM]: 1 } });
  fake.setConsumer(VM2.uuid, { [RP_B]: { VCPU: 1, MEMORY_MB: 128, [PMEM]: 1 } });
  const domains: Array<{ name: string; uuid: string; xml: string }> = [];
  const hostB = {
    // A tick before answering: concurrent assignments interleave here, as they would over the network.
    listAllDomains: async () => { await new Promise((r) => setImmediate(r)); return domains.map((d, i) => ({ name: d.name, uuid: d.uuid, id: i + 1 })); },
    domainGetXmlDesc: async (d: { uuid: string }) => domains.find((x) => x.uuid === d.uuid)!.xml,
  };
  const assignmentsDir = path.join(tmp, 'host-b');
  const inventory = new Inventory([
    { name: 'host-a', uri: 'test:///a', peerUri: 'test:///a', rp: RP_A },
    {
      name: 'host-b', uri: 'test:///b', peerUri: 'test:///b', rp: RP_B,
      pmem: { namespaces: [{ name: 'ns0', path: `${dir}/ns0`, sizeMiB: 64 }, { name: 'ns1', path: `${dir}/ns1`, sizeMiB: 64 }], assignmentsDir },
    },
  ]);
  const deps = {
    inventory,
    connections: { get: async (name: string) => { if (name !== 'host-b') throw new Error(`no stub for ${name}`); return hostB; } },
    placement: new PlacementClient({ baseUrl: 'http://placement.test', fetch: fake.fetch }),
  } as unknown as ActivityDeps;
  return { fake, deps, domains, records: new PmemAssignmentRecords(assignmentsDir) };
}

describe('assignDestinationPmem', () => {
  it('a guest without vPMEM needs nothing: no facts read', async () => {
    const { deps, fake } = setup();
    expect(await assignDestinationPmem(deps, { vm: VM1, destination: 'host-b', migrationId: M1 }, domainXml('db'))).toBeUndefined();
    expect(fake.requests).toEqual([]);
  });

  it('assigns a free namespace, records it, and answers the same again (prepare, then start)', async () => {
    const { deps, records } = setup();
    const t = { vm: VM1, destination: 'host-b', migrationId: M1 };
    expect(await assignDestinationPmem(deps, t, sourceXml)).toEqual({ [`${dir}/ns0`]: `${dir}/ns0` });
    expect(records.list()).toEqual([{ namespace: 'ns0', migrationId: M1, vmUuid: VM1.uuid, device: `${dir}/ns0` }]);
    expect(await assignDestinationPmem(deps, t, sourceXml)).toEqual({ [`${dir}/ns0`]: `${dir}/ns0` });
    expect(records.list()).toHaveLength(1);
  });

  it('two migrations deciding at the same moment get two different namespaces (the record arbitrates)', async () => {
    const { deps, records } = setup();
    const [a, b] = await Promise.all([
      assignDestinationPmem(deps, { vm: VM1, destination: 'host-b', migrationId: M1 }, sourceXml),
      assignDestinationPmem(deps, { vm: VM2, destination: 'host-b', migrationId: M2 }, sourceXml),
    ]);
    expect(new Set([a![`${dir}/ns0`], b![`${dir}/ns0`]])).toEqual(new Set([`${dir}/ns0`, `${dir}/ns1`]));
    expect(records.list().map((r) => r.migrationId).sort()).toEqual([M1, M2]);
  });

  it('skips a namespace a domain on the host uses, and refuses when none is left, naming who holds them', async () => {
    const { deps, domains } = setup();
    domains.push({ name: 'web', uuid: 'cccccccc-0000-4000-8000-000000000001', xml: domainXml('web', nvdimm(`${dir}/ns0`)) });
    expect(await assignDestinationPmem(deps, { vm: VM1, destination: 'host-b', migrationId: M1 }, sourceXml)).toEqual({ [`${dir}/ns0`]: `${dir}/ns1` });
    await expect(assignDestinationPmem(deps, { vm: VM2, destination: 'host-b', migrationId: M2 }, sourceXml)).rejects.toMatchObject({
      type: 'Refused',
      message: expect.stringMatching(new RegExp(`ns0 used by domain 'web'; ns1 assigned to migration ${M1}`)),
    });
  });

  it("a record whose VM lost its claim (rolled back) is dropped, and its namespace goes to the next migration", async () => {
    const { deps, fake, records } = setup();
    await assignDestinationPmem(deps, { vm: VM1, destination: 'host-b', migrationId: M1 }, sourceXml);
    fake.setConsumer(VM1.uuid, { [RP_A]: { VCPU: 1, MEMORY_MB: 128, [PMEM]: 1 } }); // the revert: back on host-a
    expect(await assignDestinationPmem(deps, { vm: VM2, destination: 'host-b', migrationId: M2 }, sourceXml)).toEqual({ [`${dir}/ns0`]: `${dir}/ns0` });
    expect(records.list()).toEqual([{ namespace: 'ns0', migrationId: M2, vmUuid: VM2.uuid, device: `${dir}/ns0` }]);
  });

  it('refuses a guest whose allocation on the destination claims no namespace', async () => {
    const { deps, fake } = setup();
    fake.setConsumer(VM1.uuid, { [RP_B]: { VCPU: 1, MEMORY_MB: 128 } });
    await expect(assignDestinationPmem(deps, { vm: VM1, destination: 'host-b', migrationId: M1 }, sourceXml)).rejects.toMatchObject({
      type: 'Refused', message: expect.stringContaining(`class ${PMEM} but its allocation on host-b claims 0`),
    });
  });

  it('refuses a destination that lists no namespaces', async () => {
    const { deps } = setup();
    await expect(assignDestinationPmem(deps, { vm: VM1, destination: 'host-a', migrationId: M1 }, sourceXml)).rejects.toMatchObject({
      type: 'Refused', message: expect.stringContaining('host-a lists no persistent-memory namespaces in the host inventory'),
    });
  });
});
