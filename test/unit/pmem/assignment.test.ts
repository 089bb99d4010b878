import { describe, expect, it } from 'vitest';
import { assignNamespaces, type AssignmentFacts, type AssignmentRecord } from '../../../model/pmem/assignment';

const C64 = 'CUSTOM_PMEM_NAMESPACE_64MB';
const C1G = 'CUSTOM_PMEM_NAMESPACE_1GB';
const VM = { name: 'db-1', uuid: '11111111-1111-4111-8111-111111111111' };
const OTHER = '22222222-2222-4222-8222-222222222222';
const M1 = '33333333-3333-4333-8333-333333333333';
const M2 = '44444444-4444-4444-8444-444444444444';
const dir = '/var/lib/libvirt/pmem';

function facts(over: Partial<AssignmentFacts> = {}): AssignmentFacts {
  return {
    host: 'host-b',
    migrationId: M1,
    vm: VM,
    devices: [{ path: `${dir}/ns0`, sizeMiB: 64 }],
    namespaces: [
      { name: 'ns1', path: `${dir}/ns1`, sizeMiB: 64 },
      { name: 'ns0', path: `${dir}/ns0`, sizeMiB: 64 },
      { name: 'big0', path: '/dev/dax9.0', sizeMiB: 1024 },
    ],
    claimed: { [C64]: 1 },
    domains: [],
    records: [],
    claimants: [VM.uuid],
    ...over,
  };
}

function ok(f: AssignmentFacts) {
  const r = assignNamespaces(f);
  if (!r.ok) throw new Error(`refused: ${r.reason}`);
  return r;
}

describe('assignNamespaces: concrete destination namespaces from the claimed count', () => {
  it('takes the first free namespace of the class in name order, and says what to record', () => {
    const r = ok(facts());
    expect(r.assigned).toEqual([{ device: `${dir}/ns0`, namespace: 'ns0', path: `${dir}/ns0`, resourceClass: C64 }]);
    expect(r.pmemPaths).toEqual({ [`${dir}/ns0`]: `${dir}/ns0` });
    expect(r.toRecord).toEqual([{ namespace: 'ns0', migrationId: M1, vmUuid: VM.uuid, device: `${dir}/ns0` }]);
    expect(r.stale).toEqual([]);
  });

  it('skips a namespace another domain on the host uses', () => {
    const r = ok(facts({ domains: [{ uuid: OTHER, name: 'web', paths: [`${dir}/ns0`] }] }));
    expect(r.assigned.map((a) => a.namespace)).toEqual(['ns1']);
  });

  it("the VM's own (incoming) domain on the destination is the assignment: its namespaces, nothing to record", () => {
    const mine: AssignmentRecord = { namespace: 'ns0', migrationId: M1, vmUuid: VM.uuid, device: `${dir}/ns0` };
    const r = ok(facts({ domains: [{ uuid: VM.uuid, name: VM.name, paths: [`${dir}/ns1`] }], records: [mine] }));
    expect(r.assigned.map((a) => a.namespace)).toEqual(['ns1']);
    expect(r.toRecord).toEqual([]);
  });

  it('without a migration id (a run begun before records), only the own domain can tell; else refused', () => {
    const own = ok(facts({ migrationId: null, domains: [{ uuid: VM.uuid, name: VM.name, paths: [`${dir}/ns1`] }] }));
    expect(own.pmemPaths).toEqual({ [`${dir}/ns0`]: `${dir}/ns1` });
    expect(assignNamespaces(facts({ migrationId: null }))).toEqual({ ok: false, reason: expect.stringContaining('carries no migration id') });
  });

  it('is idempotent by migration id: its own record wins over name order, nothing new to record', () => {
    const mine: AssignmentRecord = { namespace: 'ns1', migrationId: M1, vmUuid: VM.uuid, device: `${dir}/ns0` };
    const r = ok(facts({ records: [mine] }));
    expect(r.assigned.map((a) => a.namespace)).toEqual(['ns1']);
    expect(r.toRecord).toEqual([]);
    // The same facts give the same answer (prepare, start and a recovery build one XML).
    expect(assignNamespaces(facts({ records: [mine] }))).toEqual(r);
  });

  it('two migrations racing for namespaces: the record of the first keeps the second off it', () => {
    const first: AssignmentRecord = { namespace: 'ns0', migrationId: M2, vmUuid: OTHER, device: '/x' };
    const r = ok(facts({ records: [first], claimants: [VM.uuid, OTHER] }));
    expect(r.assigned.map((a) => a.namespace)).toEqual(['ns1']);
  });

  it('refuses, naming every user, when the last free namespace went to another migration', () => {
    const first: AssignmentRecord = { namespace: 'ns0', migrationId: M2, vmUuid: OTHER, device: '/x' };
    const r = assignNamespaces(facts({
      records: [first], claimants: [VM.uuid, OTHER], domains: [{ uuid: 'dddddddd-0000-4000-8000-000000000000', name: 'web', paths: [`${dir}/ns1`] }],
    }));
    expect(r).toEqual({ ok: false, reason: expect.stringContaining(`no free persistent-memory namespace of class ${C64} on host-b`) });
    const reason = (r as { reason: string }).reason;
    expect(reason).toContain("ns0 assigned to migration " + M2);
    expect(reason).toContain("ns1 used by domain 'web'");
  });

  it("a record whose VM no longer holds a namespace class there is stale: it releases the namespace", () => {
    const gone: AssignmentRecord = { namespace: 'ns0', migrationId: M2, vmUuid: OTHER, device: '/x' };
    const r = ok(facts({ records: [gone], claimants: [VM.uuid] }));
    expect(r.assigned.map((a) => a.namespace)).toEqual(['ns0']);
    expect(r.stale).toEqual([gone]);
  });

  it("an earlier migration's record of the same VM is stale (one migration per VM at a time)", () => {
    const earlier: AssignmentRecord = { namespace: 'ns1', migrationId: M2, vmUuid: VM.uuid, device: `${dir}/ns0` };
    const r = ok(facts({ records: [earlier] }));
    expect(r.assigned.map((a) => a.namespace)).toEqual(['ns0']);
    expect(r.stale).toEqual([earlier]);
  });

  it('assigns several devices of several classes, each its own namespace', () => {
    const r = ok(facts({
      devices: [{ path: '/src/a', sizeMiB: 64 }, { path: '/src/big', sizeMiB: 1024 }, { path: '/src/b', sizeMiB: 64 }],
      claimed: { [C64]: 2, [C1G]: 1 },
    }));
    expect(r.assigned.map((a) => [a.device, a.namespace, a.resourceClass])).toEqual([
      ['/src/a', 'ns0', C64], ['/src/big', 'big0', C1G], ['/src/b', 'ns1', C64],
    ]);
    expect(r.toRecord).toHaveLength(3);
  });

  it('refuses a guest with more devices of a class than its allocation claims', () => {
    const r = assignNamespaces(facts({ claimed: {} }));
    expect(r).toEqual({ ok: false, reason: expect.stringMatching(new RegExp(`1 vPMEM device\\(s\\) of class ${C64} but its allocation on host-b claims 0`)) });
  });

  it('refuses a class the destination has no namespace of', () => {
    const r = assignNamespaces(facts({ devices: [{ path: '/src/huge', sizeMiB: 2048 }], claimed: { CUSTOM_PMEM_NAMESPACE_2GB: 1 } }));
    expect(r).toEqual({ ok: false, reason: expect.stringContaining('host-b has no persistent-memory namespace of class CUSTOM_PMEM_NAMESPACE_2GB') });
  });

  it('ignores records of namespaces the host no longer lists', () => {
    const ghost: AssignmentRecord = { namespace: 'ns9', migrationId: M1, vmUuid: VM.uuid, device: `${dir}/ns0` };
    const r = ok(facts({ records: [ghost] }));
    expect(r.assigned.map((a) => a.namespace)).toEqual(['ns0']);
    expect(r.stale).toEqual([ghost]);
  });
});
