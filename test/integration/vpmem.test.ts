/**
 * vPMEM end to end on the lab (issue 10 §4): a guest with a persistent-memory namespace is
 * migrated by the LiveMigration workflow; its namespace is claimed in Placement, a concrete one is
 * assigned on the destination and written into the destination XML on the source; the data the
 * host wrote into the source namespace before the guest started is found in the destination's;
 * post-copy is never used, and the decision says why; success releases the source namespace,
 * abort the destination's; two migrations racing for the last namespace end with one refused and
 * nothing double-assigned.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FerryClient } from '../../client/ferry-client';
import { rootFailure } from '../../client/outcome-format';
import { findDomain, withHostClient } from '../../lab/host-clients';
import { setLinkCap } from '../../lab/network';
import { labPmemAssignmentsDir, readPmemNamespace } from '../../lab/pmem';
import { waitFor } from '../../lab/proc';
import type { LabState, LabVm } from '../../lab/state';
import { createLabVm, deleteLabVm } from '../../lab/vms';
import { vpmemDevicesOfXml } from '../../activities/libvirt/dest-xml';
import { PmemAssignmentRecords } from '../../activities/pmem/records';
import { pmemResourceClass } from '../../model/pmem/namespace';
import type { Outcome } from '../../model/types';
import { ensureTestLab } from './lab';
import { expectAliveOn } from './support/guest-alive';
import { expectInvariants, itClient, placementClient, rpOf, startWorkerProcess, type WorkerProcess } from './support/workflow-lab';

let lab: LabState;
let A: string;
let B: string;
let worker: WorkerProcess;
let client: FerryClient;
const VMS = ['vp-move', 'vp-after', 'vp-abort', 'vp-fill', 'vp-block', 'vp-race-1', 'vp-race-2'];
/** What the host writes into the source namespace before the guest starts (sequence-numbered, so a shifted copy shows). */
const SEED = Buffer.from(Array.from({ length: 64 * 1024 }, (_, i) => `vpmem-${i.toString(16).padStart(6, '0')};`).join('').slice(0, 64 * 1024), 'latin1');
const PMEM = pmemResourceClass(64);

beforeAll(async () => {
  lab = await ensureTestLab();
  [A, B] = [lab.hosts[0]!.name, lab.hosts[1]!.name];
  for (const h of [A, B]) {
    // The lab's default: two 64 MiB namespaces per host (lab/pmem.ts). The tests count on it.
    expect(lab.hosts.find((x) => x.name === h)!.pmemNamespaces.map((ns) => ns.sizeMiB)).toEqual([64, 64]);
  }
  for (const vm of VMS) await deleteLabVm(vm);
  worker = await startWorkerProcess('vpmem');
  client = await itClient();
});
afterEach(async () => {
  await setLinkCap(A, null);
  for (const vm of VMS) await deleteLabVm(vm);
});
afterAll(async () => {
  await client?.close();
  await worker?.kill();
  for (const vm of VMS) await deleteLabVm(vm);
});

/** The vPMEM backing paths of a VM's domain on a host (its live XML). */
async function pmemPathsOn(host: string, vm: string): Promise<string[]> {
  return withHostClient(host, async (c) => {
    const found = await findDomain(c, vm);
    if (!found) throw new Error(`${vm} has no domain on ${host}`);
    return vpmemDevicesOfXml(await c.domainGetXmlDesc(found.dom)).map((d) => d.path!);
  });
}

async function pmemHeld(vmUuid: string): Promise<Record<string, number>> {
  const alloc = (await (await placementClient()).getAllocations(vmUuid)).allocations;
  return Object.fromEntries(Object.entries(alloc).map(([rp, r]) => [rp, r[PMEM] ?? 0]));
}

async function migrate(vm: LabVm, request: Record<string, unknown>): Promise<{ id: string; outcome: Promise<Outcome> }> {
  const handle = await client.startMigration({ vm: vm.name, ...request }, vm.uuid);
  return { id: handle.workflowId, outcome: handle.result() };
}

describe('vPMEM guest on the lab', () => {
  it('claimed, assigned, data found on the destination, post-copy refused with the reason, source namespace released', async () => {
    // B's first namespace is taken by another guest: the migration must get B's second one, a different path.
    await createLabVm({ name: 'vp-block', host: B, memoryMiB: 64, rateMiBps: 0, vpmem: 1 });
    const blocked = await pmemPathsOn(B, 'vp-block');
    const vm = await createLabVm({ name: 'vp-move', host: A, memoryMiB: 128, rateMiBps: 20, vpmem: 1, vpmemSeed: SEED });
    const [sourcePath] = await pmemPathsOn(A, vm.name);
    expect(readPmemNamespace(A, sourcePath!, SEED.length).equals(SEED)).toBe(true);
    expect(await pmemHeld(vm.uuid)).toEqual({ [rpOf(A)]: 1 });

    // The policy allows post-copy; the guest must still never use it.
    const o = await (await migrate(vm, { destination: B, policy: { postcopy: { allowed: true } } })).outcome;
    expect(o.outcome).toBe('completed');
    expect(o.mode).not.toBe('postcopy');
    const resolved = o.decisions.find((d) => d.action === 'resolve-policy')!;
    expect(resolved.reason).toContain('post-copy not eligible');
    expect(resolved.reason).toContain(`vPMEM nvdimm backed by ${sourcePath}`);
    expect(o.decisions.some((d) => d.action === 'start-postcopy')).toBe(false);
    expect(o.decisions.find((d) => d.action === 'start')!.reason).not.toContain('post-copy enabled');

    // Assigned on B: a namespace other than the blocker's, written into the destination XML.
    const [destPath] = await pmemPathsOn(B, vm.name);
    expect(destPath).not.toBe(blocked[0]);
    expect(o.decisions.find((d) => d.action === 'prepare-destination')!.reason).toContain('the namespace assigned on');
    expect(readPmemNamespace(B, destPath!, SEED.length).equals(SEED)).toBe(true);

    // Claimed in Placement with the rest of the allocation; the source's released.
    await expectInvariants(vm, B, o.migrationId);
    expect(await pmemHeld(vm.uuid)).toEqual({ [rpOf(B)]: 1 });
    expect((await (await placementClient()).getUsages(rpOf(A))).usages[PMEM]).toBe(0);
    await expectAliveOn(B, vm.name);
    // The assignment was recorded on B, by this migration.
    expect(new PmemAssignmentRecords(labPmemAssignmentsDir(B)).list()).toContainEqual(expect.objectContaining({ migrationId: o.migrationId, vmUuid: vm.uuid }));

    // Success released the source namespace: A's two are free again for new guests.
    await createLabVm({ name: 'vp-after', host: A, memoryMiB: 64, rateMiBps: 0, vpmem: 2 });
    expect((await pmemPathsOn(A, 'vp-after')).sort()).toContain(sourcePath);
  }, 240_000);

  it('abort in pre-copy: the guest keeps running on the source with its data; the destination namespace is released', async () => {
    const vm = await createLabVm({ name: 'vp-abort', host: A, memoryMiB: 128, rateMiBps: 'max', vpmem: 1, vpmemSeed: SEED });
    const [sourcePath] = await pmemPathsOn(A, vm.name);
    await setLinkCap(A, 200);
    const { id, outcome } = await migrate(vm, { destination: B, policy: { postcopy: { allowed: false }, pause: { allowed: false } } });
    await waitFor('data to flow', async () => (await client.progress(id)).dataTotal > 0, { timeoutMs: 90_000, intervalMs: 200 });
    // While it runs, B's namespace is claimed and recorded for this migration.
    expect((await pmemHeld(vm.uuid))[rpOf(B)]).toBe(1);
    await client.abort(id, 'vpmem integration test');
    const o = await outcome;
    expect(o.outcome).toBe('rolled_back');
    await expectInvariants(vm, A, o.migrationId);
    expect(await pmemHeld(vm.uuid)).toEqual({ [rpOf(A)]: 1 });
    expect(await pmemPathsOn(A, vm.name)).toEqual([sourcePath]);
    await expectAliveOn(A, vm.name);
    // The guest wrote nothing into it (the lab guest ignores its nvdimm): the host's seed is intact.
    expect(readPmemNamespace(A, sourcePath!, SEED.length).equals(SEED)).toBe(true);
    // B's namespaces are both free: a new guest takes the two (the aborted migration's record is stale).
    expect((await (await placementClient()).getUsages(rpOf(B))).usages[PMEM]).toBe(0);
    await createLabVm({ name: 'vp-fill', host: B, memoryMiB: 64, rateMiBps: 0, vpmem: 2 });
    expect(await pmemPathsOn(B, 'vp-fill')).toHaveLength(2);
  }, 240_000);

  it('two migrations race for the last free namespace: one is refused before anything moves, nothing is double-assigned', async () => {
    await createLabVm({ name: 'vp-block', host: B, memoryMiB: 64, rateMiBps: 0, vpmem: 1 });
    const r1 = await createLabVm({ name: 'vp-race-1', host: A, memoryMiB: 64, rateMiBps: 0, vpmem: 1 });
    const r2 = await createLabVm({ name: 'vp-race-2', host: A, memoryMiB: 64, rateMiBps: 0, vpmem: 1 });
    const [m1, m2] = await Promise.all([migrate(r1, { destination: B }), migrate(r2, { destination: B })]);
    const results = await Promise.all([m1.outcome, m2.outcome].map((p) => p.then((o) => ({ o }), (err: unknown) => ({ err }))));
    const won = results.filter((r): r is { o: Outcome } => 'o' in r && r.o.outcome === 'completed');
    const lost = results.filter((r): r is { err: unknown } => 'err' in r);
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.err).toBeInstanceOf(WorkflowFailedError);
    const root = rootFailure(lost[0]!.err);
    expect(root.type).toBe('Refused');
    expect(root.message).toMatch(/no room/);
    expect(root.message).toContain(PMEM);

    // results[i] is race-(i+1)'s.
    const winner = 'o' in results[0]! ? r1 : r2;
    const loser = winner === r1 ? r2 : r1;
    await expectInvariants(winner, B, won[0]!.o.migrationId);
    await expectInvariants(loser, A);
    // Nothing double-assigned: B's two guests use two different namespaces.
    const onB = [...(await pmemPathsOn(B, 'vp-block')), ...(await pmemPathsOn(B, winner.name))];
    expect(new Set(onB).size).toBe(2);
    expect((await (await placementClient()).getUsages(rpOf(B))).usages[PMEM]).toBe(2);
  }, 300_000);
});
