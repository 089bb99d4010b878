/**
 * gatherDrainFacts against stub hosts and the fake Placement: the host's active VMs (size from the
 * domain, resources from Placement, post-copy blockers, why one cannot move), every other host's
 * free room, maintenance mark and limits, CPU incompatibility per VM, and a silent host reported.
 */
import { describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../../activities/deps';
import { drainFactsActivities } from '../../../activities/drain-facts';
import { Inventory } from '../../../activities/hosts';
import { PlacementClient } from '../../../activities/placement';
import { MAINTENANCE_TRAIT } from '../../../model/drain';
import { FakePlacement } from '../placement/fake-placement';

const RP = { a: '11111111-1111-4111-8111-111111111111', b: '22222222-2222-4222-8222-222222222222', c: '33333333-3333-4333-8333-333333333333', d: '44444444-4444-4444-8444-444444444444' };
const WEB = { name: 'web-1', uuid: 'aaaaaaaa-0000-4000-8000-000000000001' };
const PMEM = { name: 'pmem-1', uuid: 'aaaaaaaa-0000-4000-8000-000000000002' };
const BUSY = { name: 'busy-1', uuid: 'aaaaaaaa-0000-4000-8000-000000000003' };

const xml = (memKiB: number, extra = '') =>
  `<domain type='qemu'><memory unit='KiB'>${memKiB}</memory><vcpu>2</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>` +
  `<cpu mode='custom'><model>Skylake</model></cpu><devices>${extra}</devices></domain>`;

interface StubDomain { name: string; uuid: string; xml: string; state: string; reason: string; job: string }

function stubHost(domains: StubDomain[], cpuIncompatible = false) {
  return {
    listAllDomains: async () => domains.map((d, i) => ({ name: d.name, uuid: d.uuid, id: i + 1 })),
    domainGetState: async (d: { uuid: string }) => { const x = domains.find((y) => y.uuid === d.uuid)!; return { stateName: x.state, reasonName: x.reason }; },
    domainGetXmlDesc: async (d: { uuid: string }) => domains.find((y) => y.uuid === d.uuid)!.xml,
    domainGetJobStats: async (d: { uuid: string }) => ({ typeName: domains.find((y) => y.uuid === d.uuid)!.job }),
    connectCompareHypervisorCpu: async () => (cpuIncompatible ? 0 : 2),
  };
}

function setup() {
  const fake = new FakePlacement();
  fake.addProvider(RP.c, 'host-c', { MEMORY_MB: 8192, VCPU: 16 });
  fake.addProvider(RP.a, 'host-a', { MEMORY_MB: 4096, VCPU: 8 });
  fake.addProvider(RP.b, 'host-b', { MEMORY_MB: 2048, VCPU: 8 });
  fake.setConsumer(WEB.uuid, { [RP.c]: { MEMORY_MB: 512, VCPU: 2 } });
  fake.setConsumer('bbbbbbbb-0000-4000-8000-000000000009', { [RP.a]: { MEMORY_MB: 1000, VCPU: 1 } }); // someone on host-a
  fake.providers.get(RP.b)!.traits = [MAINTENANCE_TRAIT];
  const hosts = {
    'host-c': stubHost([
      { ...WEB, xml: xml(524288), state: 'running', reason: 'Booted', job: 'None' },
      { ...PMEM, xml: xml(1048576, "<memory model='nvdimm'><source><path>/dev/dax0.0</path><pmem/></source><target><size unit='KiB'>524288</size></target></memory>"), state: 'running', reason: 'Booted', job: 'None' },
      { ...BUSY, xml: xml(262144), state: 'running', reason: 'Booted', job: 'Unbounded' },
    ]),
    'host-a': stubHost([], true),
    'host-b': stubHost([]),
  } as Record<string, ReturnType<typeof stubHost>>;
  const inventory = new Inventory([
    { name: 'host-c', uri: 'test:///c', peerUri: 'test:///c', rp: RP.c, limits: { maxOutgoingMigrations: 1 } },
    { name: 'host-a', uri: 'test:///a', peerUri: 'test:///a', rp: RP.a, limits: { maxIncomingMigrations: 3 } },
    { name: 'host-b', uri: 'test:///b', peerUri: 'test:///b', rp: RP.b },
    { name: 'host-d', uri: 'test:///d', peerUri: 'test:///d', rp: RP.d },
  ]);
  const connections = {
    get: async (name: string) => {
      const h = hosts[name];
      if (!h) throw new Error(`cannot connect to ${name}: connection refused`);
      return h;
    },
  };
  const placement = new PlacementClient({ baseUrl: 'http://placement.test', fetch: fake.fetch });
  return drainFactsActivities({ inventory, connections, placement } as unknown as ActivityDeps);
}

describe('gatherDrainFacts', () => {
  it('reports the VMs, the room elsewhere, maintenance, limits, CPU and silent hosts', async () => {
    const facts = await setup().gatherDrainFacts({ host: 'host-c' });
    expect(facts.host).toBe('host-c');
    expect(facts.maxOutgoing).toBe(1);
    const byName = Object.fromEntries(facts.vms.map((v) => [v.name, v]));
    expect(byName['web-1']).toEqual({
      name: 'web-1', uuid: WEB.uuid, memoryMiB: 512, vcpus: 2, resources: { MEMORY_MB: 512, VCPU: 2 }, dirtyBps: null, postcopyBlockers: [], unmovable: null,
    });
    expect(byName['pmem-1']!.postcopyBlockers).toHaveLength(1);
    expect(byName['pmem-1']!.resources).toEqual({}); // holds nothing in Placement: the plan sizes it from libvirt
    expect(byName['busy-1']!.unmovable).toMatch(/it has a job running \(unbounded: another migration/);
    expect(facts.destinations).toEqual([
      { host: 'host-a', free: { MEMORY_MB: 3096, VCPU: 7 }, maintenance: false, cpuIncompatible: [WEB.uuid, PMEM.uuid, BUSY.uuid], maxIncoming: 3 },
      { host: 'host-b', free: { MEMORY_MB: 2048, VCPU: 8 }, maintenance: true, cpuIncompatible: [], maxIncoming: null },
    ]);
    expect(facts.unreachable).toEqual([{ host: 'host-d', error: expect.stringMatching(/No resource provider|connection refused/) }]);
  });

  it('an unknown host is refused by name', async () => {
    await expect(setup().gatherDrainFacts({ host: 'host-z' })).rejects.toThrow(/unknown host 'host-z': ferry knows host-c, host-a, host-b, host-d/);
  });
});
