import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSimActivities } from '../../../activities/sim/activities';
import { SimFleet } from '../../../activities/sim/fleet';
import { SimFleetSpecSchema, type SimFleetSpecInput } from '../../../model/sim/fleet-spec';

/** A fleet on a clock the test moves (real ms; the fleet's speed multiplies it). */
function setup(spec: SimFleetSpecInput = {}) {
  let now = 0;
  const fleet = new SimFleet(SimFleetSpecSchema.parse({ hosts: 3, vmsPerHost: 2, memoryMiB: [1024], linkMiBps: 100, ...spec }), () => now);
  const acts = createSimActivities(fleet, { watchPollMs: 1 });
  const vm = [...fleet.vms.values()][0]!;
  const facts = { name: vm.name, uuid: vm.uuid, memoryMiB: vm.memoryMiB, vcpus: vm.vcpus };
  const source = vm.host;
  const destination = fleet.hosts.find((h) => h !== source)!;
  const migrationId = randomUUID();
  const startInput = { migrationId, vm: facts, source, destination, postcopy: true, bandwidthMiBps: null, initialMaxDowntimeMs: 300 };
  const watch = (lastIteration: number | null = null, lastMode: 'setup' | 'precopy' | 'postcopy' | 'paused' = 'setup') =>
    acts.watchMigration({ vm: facts, source, destination, maxWaitMs: 1, lastIteration, lastMode });
  return { fleet, acts, vm, facts, source, destination, migrationId, startInput, watch, tick: (ms: number) => { now += ms; } };
}

describe('the simulated activities', () => {
  it('the same fleet from the same spec: names and UUIDs are stable', () => {
    const a = setup().fleet;
    const b = setup().fleet;
    expect([...a.vms.keys()]).toEqual([...b.vms.keys()]);
    expect(a.vms.size).toBe(6);
  });

  it("the forecast's facts: the guest's own rate, working set and the RAM that holds data; with a plan, the forecast from them", async () => {
    const t = setup({ dirtyMiBps: [8, 8], touchedFraction: 0.5 });
    const f = await t.acts.gatherForecastFacts({ vmUuid: t.vm.uuid, source: t.source, destination: t.destination });
    expect(f).toEqual({ dirtyBps: t.vm.dirtyBps, workingSetBytes: t.vm.workingSetBytes, residentBytes: (512 + 32) * 1024 * 1024, sourceLinkMiBps: 100, destinationLinkMiBps: 100 });
    const plan = { source: t.source, destination: t.destination, memoryMiB: 1024, limitMiBps: null, policy: { strategy: 'auto' as const }, postcopyEligible: true };
    const withPlan = await t.acts.gatherForecastFacts({ vmUuid: t.vm.uuid, source: t.source, destination: t.destination, plan });
    expect(withPlan.auto).toMatchObject({ kind: 'forecast', pick: 'precopy', decision: { inputs: { touchedBytes: 512 * 1024 * 1024 } } });
  });

  it('start is idempotent by migration id: a second call finds the running, then the finished migration', async () => {
    const t = setup({ dirtyMiBps: [0, 0] });
    expect(await t.acts.startMigration(t.startInput)).toEqual({ outcome: 'started' });
    expect(await t.acts.startMigration(t.startInput)).toEqual({ outcome: 'already-running' });
    expect(t.fleet.migrations.size).toBe(1);
    t.tick(60_000);
    expect(await t.acts.startMigration(t.startInput)).toEqual({ outcome: 'already-done' });
    expect(t.vm.host).toBe(t.destination);
  });

  it('claim, finish and the drop are idempotent; finish reports the model stats', async () => {
    const t = setup({ dirtyMiBps: [0, 0] });
    const claimInput = { migrationId: t.migrationId, vm: t.facts, source: t.source, destination: t.destination };
    expect((await t.acts.claim(claimInput)).outcome).toBe('claimed');
    expect((await t.acts.claim(claimInput)).outcome).toBe('already-claimed');
    expect(t.fleet.allocations.get(t.vm.uuid)?.host).toBe(t.destination);
    await t.acts.startMigration(t.startInput);
    await expect(t.acts.finishMigration(claimInput)).rejects.toThrow(/has not completed/);
    t.tick(60_000);
    const first = await t.acts.finishMigration(claimInput);
    expect(first.stats.totalMs).toBeGreaterThan(1000);
    expect(first.stats.bytes).toBeGreaterThan(600 * 1024 * 1024); // 60 % of 1 GiB holds data
    expect(await t.acts.finishMigration(claimInput)).toEqual(first);
    expect(t.fleet.allocations.has(t.migrationId)).toBe(false);
    expect(await t.acts.dropMigrationClaim({ migrationId: t.migrationId })).toBe(false);
  });

  it('the watch reports setup, then pre-copy passes, then the end with the guest on the destination', async () => {
    const t = setup({ dirtyMiBps: [10, 10] });
    await t.acts.startMigration(t.startInput);
    expect((await t.watch()).mode).toBe('setup');
    t.tick(2000);
    const s = await t.watch();
    expect(s).toMatchObject({ job: 'running', mode: 'precopy', iteration: 1, memoryBps: 100 * 1024 * 1024 });
    expect(s.source.domain).toMatchObject({ state: 'running' });
    expect(s.destination.domain).toMatchObject({ state: 'paused', reason: 'Migration' });
    t.tick(120_000);
    const end = await t.watch(s.iteration, 'precopy');
    expect(end.job).toBe('ended');
    expect(end.source.domain).toBe('none');
    expect(end.destination.domain).toMatchObject({ state: 'running', reason: 'Migrated' });
  });

  it('abort in pre-copy: the job ends, the guest stays on its source; the roll-back reverts the claim, twice alike', async () => {
    const t = setup({ dirtyMiBps: [500, 500], workingSetFraction: [1, 1] });
    await t.acts.claim({ migrationId: t.migrationId, vm: t.facts, source: t.source, destination: t.destination });
    await t.acts.startMigration(t.startInput);
    t.tick(5000);
    expect(await t.acts.applyAction({ vm: t.facts, source: t.source, destination: t.destination, action: { kind: 'abort' } })).toBe('aborted');
    const s = await t.watch(1, 'precopy');
    expect(s.job).toBe('ended');
    expect(s.source.domain).toMatchObject({ state: 'running' });
    expect(s.source.finishedJob?.type).toBe('cancelled');
    expect(s.destination.domain).toBe('none');
    const rb = { migrationId: t.migrationId, vm: t.facts, source: t.source, destination: t.destination, resumeIfPaused: false };
    expect((await t.acts.rollbackMigration(rb)).outcome).toBe('rolled-back');
    expect(t.fleet.allocations.get(t.vm.uuid)?.host).toBe(t.source);
    expect((await t.acts.rollbackMigration(rb)).outcome).toBe('rolled-back');
    expect(t.vm.host).toBe(t.source);
  });

  it('post-copy: the guest runs on the destination at once, abort and roll-back are refused, then it completes', async () => {
    const t = setup({ dirtyMiBps: [500, 500], workingSetFraction: [1, 1] });
    await t.acts.startMigration(t.startInput);
    t.tick(3000);
    const act = (kind: 'start-postcopy' | 'abort') => t.acts.applyAction({ vm: t.facts, source: t.source, destination: t.destination, action: { kind } });
    expect(await act('start-postcopy')).toBe('post-copy started');
    const s = await t.watch(1, 'precopy');
    expect(s.mode).toBe('postcopy');
    expect(s.source.domain).toMatchObject({ state: 'paused', reason: 'Postcopy' });
    expect(s.destination.domain).toMatchObject({ state: 'running', reason: 'Postcopy' });
    await expect(act('abort')).rejects.toThrow(/abort refused/);
    const rb = await t.acts.rollbackMigration({ migrationId: t.migrationId, vm: t.facts, source: t.source, destination: t.destination, resumeIfPaused: false });
    expect(rb).toMatchObject({ outcome: 'refused', next: 'finish' });
    t.tick(60_000);
    const fin = await t.acts.finishOnHosts({ migrationId: t.migrationId, vm: t.facts, source: t.source, destination: t.destination });
    expect(fin.stats.downtimeMs).toBe(5);
    expect(fin.stats.postcopyRequests).toBeGreaterThan(0);
    expect(t.vm.host).toBe(t.destination);
  });

  it('the speed factor scales simulated time: at 10, 1 s of the clock is 10 s of migration', async () => {
    const t = setup({ dirtyMiBps: [500, 500], workingSetFraction: [1, 1], speed: 10 });
    await t.acts.startMigration(t.startInput);
    t.tick(1000);
    expect((await t.watch()).elapsedMs).toBe(10_000);
  });

  it('a VM the fleet does not hold is refused, naming it', async () => {
    const t = setup();
    await expect(t.acts.checkSource({ vm: 'no-such-vm' })).rejects.toThrow(/'no-such-vm' is on none of the 3 simulated hosts/);
  });
});
