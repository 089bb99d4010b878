import { describe, expect, it } from 'vitest';
import { chooseFor, planDrain, roomOf } from '../../../model/drain';
import { dest, facts, vm } from './facts';

const opts = { moveBandwidthBps: null };
const MiB = 1048576;

describe('drain plan', () => {
  it('orders quiet and small first: dirty rate, then memory, then name; an unknown rate counts as quiet', () => {
    const busySmall = vm('busy-small', 128, { dirtyBps: 50 * MiB });
    const quietBig = vm('quiet-big', 1024, { dirtyBps: 1 * MiB });
    const unknownSmall = vm('unknown-small', 256);
    const quietSmall = vm('quiet-small', 128, { dirtyBps: 1 * MiB });
    const plan = planDrain(facts([busySmall, quietBig, unknownSmall, quietSmall], [dest('host-a', 100_000)]), opts);
    expect(plan.moves.map((m) => m.vm.name)).toEqual(['unknown-small', 'quiet-small', 'quiet-big', 'busy-small']);
    expect(plan.cannotMove).toEqual([]);
  });

  it('consumes room as it assigns, so two VMs never count on the same room', () => {
    // host-a has room for one 512 MiB VM only; host-b for one too.
    const a = vm('a', 512);
    const b = vm('b', 512);
    const c = vm('c', 512);
    const plan = planDrain(facts([a, b, c], [dest('host-a', 700), dest('host-b', 600)]), opts);
    expect(plan.moves.map((m) => [m.vm.name, m.destination])).toEqual([['a', 'host-a'], ['b', 'host-b']]);
    expect(plan.cannotMove).toEqual([{ vm: { name: 'c', uuid: c.uuid }, kind: 'no-room', reason: expect.stringMatching(/no host has room for MEMORY_MB:512,VCPU:1; the most free: host-a MEMORY_MB:188/) }]);
    expect(plan.roomLeft).toEqual({ 'host-a': { MEMORY_MB: 188, VCPU: 15 }, 'host-b': { MEMORY_MB: 88, VCPU: 15 } });
  });

  it('spreads: each VM goes where the most memory is left after it', () => {
    const plan = planDrain(facts([vm('a', 100), vm('b', 100), vm('c', 100)], [dest('host-a', 1000), dest('host-b', 950)]), opts);
    expect(plan.moves.map((m) => m.destination)).toEqual(['host-a', 'host-b', 'host-a']);
  });

  it('nothing fits: every VM is reported with the reason, none is planned', () => {
    const plan = planDrain(facts([vm('a', 4096), vm('b', 2048)], [dest('host-a', 1000), dest('host-b', 1000)]), opts);
    expect(plan.moves).toEqual([]);
    expect(plan.cannotMove.map((c) => c.kind)).toEqual(['no-room', 'no-room']);
  });

  it('one VM fits nowhere while the others move', () => {
    const plan = planDrain(facts([vm('small', 256), vm('huge', 64_000), vm('mid', 512)], [dest('host-a', 2048)]), opts);
    expect(plan.moves.map((m) => m.vm.name)).toEqual(['small', 'mid']);
    expect(plan.cannotMove.map((c) => [c.vm.name, c.kind])).toEqual([['huge', 'no-room']]);
  });

  it('takes no host in maintenance, and says so when no host is left', () => {
    const plan = planDrain(facts([vm('a', 128)], [dest('host-a', 4096, 16, { maintenance: true })]), opts);
    expect(plan.moves).toEqual([]);
    expect(plan.cannotMove[0]).toMatchObject({ kind: 'no-destination', reason: expect.stringContaining('in maintenance: host-a') });
    expect(roomOf([dest('host-a', 1, 1, { maintenance: true })])).toEqual({});
  });

  it('a CPU mismatch: room only on hosts that cannot run the guest CPU', () => {
    const picky = vm('picky', 128);
    const plan = planDrain(facts([picky], [dest('host-a', 4096, 16, { cpuIncompatible: [picky.uuid] }), dest('host-b', 64)]), opts);
    expect(plan.cannotMove[0]).toMatchObject({ kind: 'cpu-mismatch', reason: expect.stringContaining('host-a') });
    // A compatible host with room is taken even when it has less room.
    const ok = planDrain(facts([picky], [dest('host-a', 4096, 16, { cpuIncompatible: [picky.uuid] }), dest('host-b', 256)]), opts);
    expect(ok.moves[0]!.destination).toBe('host-b');
  });

  it('post-copy blockers: a note, unless the guest dirties faster than a move sends (then it cannot move)', () => {
    const calm = vm('calm', 128, { postcopyBlockers: ['vPMEM'], dirtyBps: 1 * MiB });
    const hot = vm('hot', 128, { postcopyBlockers: ['VFIO'], dirtyBps: 200 * MiB });
    const plan = planDrain(facts([calm, hot], [dest('host-a', 4096)]), { moveBandwidthBps: 100 * MiB });
    expect(plan.moves.map((m) => [m.vm.name, m.notes])).toEqual([['calm', ['post-copy blocked (vPMEM): pre-copy only']]]);
    expect(plan.cannotMove).toEqual([{ vm: { name: 'hot', uuid: hot.uuid }, kind: 'postcopy-blockers', reason: expect.stringMatching(/dirties 200 MiB\/s, at least the 100 MiB\/s/) }]);
  });

  it('an unmovable VM (paused, a job, a hostdev) is reported with its own reason', () => {
    const plan = planDrain(facts([vm('p', 128, { unmovable: 'paused: resume it first' })], [dest('host-a', 4096)]), opts);
    expect(plan.cannotMove).toEqual([expect.objectContaining({ kind: 'unmovable', reason: 'paused: resume it first' })]);
  });

  it('every resource class the VM holds must fit (a custom class the host lacks means no room)', () => {
    const pmem = vm('pmem', 128, { resources: { MEMORY_MB: 128, VCPU: 1, CUSTOM_PMEM_NAMESPACE_4GB: 1 } });
    const plan = planDrain(facts([pmem], [dest('host-a', 4096), dest('host-b', 4096, 16, { free: { MEMORY_MB: 4096, VCPU: 16, CUSTOM_PMEM_NAMESPACE_4GB: 1 } })]), opts);
    expect(plan.moves[0]!.destination).toBe('host-b');
  });

  it('a retry leaves out the destinations tried already', () => {
    const a = vm('a', 128);
    const ds = [dest('host-a', 4096), dest('host-b', 1024)];
    expect(chooseFor(a, ds, roomOf(ds))).toEqual({ destination: 'host-a' });
    expect(chooseFor(a, ds, roomOf(ds), ['host-a'])).toEqual({ destination: 'host-b' });
    expect(chooseFor(a, ds, roomOf(ds), ['host-a', 'host-b'])).toMatchObject({ kind: 'no-destination', reason: expect.stringContaining('tried already: host-a, host-b') });
  });

  it('a VM without a Placement allocation is sized from libvirt', () => {
    const bare = vm('bare', 300, { resources: {}, vcpus: 2 });
    expect(planDrain(facts([bare], [dest('host-a', 4096)]), opts).moves[0]!.resources).toEqual({ MEMORY_MB: 300, VCPU: 2 });
  });
});
