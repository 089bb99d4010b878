import { describe, expect, it } from 'vitest';
import { admit, DrainLimitsSchema, moveBandwidth, type Candidate } from '../../../model/drain';

const limits = (over: Record<string, unknown> = {}) => DrainLimitsSchema.parse(over);
const c = (id: string, destination: string, source = 'host-c'): Candidate => ({ id, source, destination });

describe('drain admission', () => {
  it('limits of 1: one move out of the host at a time', () => {
    const a = admit([c('1', 'host-a'), c('2', 'host-b')], [], limits({ maxParallel: 1 }));
    expect(a.start.map((s) => s.id)).toEqual(['1']);
    expect(a.waiting['2']).toMatch(/limit out of host-c: 1 of 1 run/);
    // With one running, none starts.
    expect(admit([c('2', 'host-b')], [{ source: 'host-c', destination: 'host-a', bandwidthMiBps: null }], limits({ maxParallel: 1 })).start).toEqual([]);
  });

  it('into a host: a full destination does not hold back a move to another one', () => {
    const a = admit([c('1', 'host-a'), c('2', 'host-a'), c('3', 'host-b')], [], limits({ maxParallel: 4, maxIntoHost: 1 }));
    expect(a.start.map((s) => s.id)).toEqual(['1', '3']);
    expect(a.waiting['2']).toMatch(/limit into host-a: 1 of 1/);
  });

  it('cluster-wide: counts migrations that are not this drain\'s', () => {
    const others = [{ source: 'host-x', destination: 'host-y', bandwidthMiBps: null }, { source: 'host-y', destination: 'host-x', bandwidthMiBps: null }];
    const a = admit([c('1', 'host-a'), c('2', 'host-b')], others, limits({ maxParallel: 4, maxClusterWide: 3 }));
    expect(a.start.map((s) => s.id)).toEqual(['1']);
    expect(a.waiting['2']).toMatch(/cluster-wide limit: 3 of 3/);
  });

  it('a host\'s own limit from the inventory wins when stricter', () => {
    const a = admit([c('1', 'host-a'), c('2', 'host-b')], [], limits({ maxParallel: 8 }), { outgoing: { 'host-c': 1 }, incoming: {} });
    expect(a.start.map((s) => s.id)).toEqual(['1']);
    const b = admit([c('1', 'host-a'), c('2', 'host-a')], [], limits({ maxParallel: 8, maxIntoHost: 8 }), { outgoing: {}, incoming: { 'host-a': 1 } });
    expect(b.start.map((s) => s.id)).toEqual(['1']);
  });

  it('bandwidth per link: moves share a link up to its budget; other links have their own', () => {
    const l = limits({ maxParallel: 8, maxIntoHost: 8, linkBandwidthMiBps: 100, moveBandwidthMiBps: 40 });
    const a = admit([c('1', 'host-a'), c('2', 'host-a'), c('3', 'host-a'), c('4', 'host-b')], [], l);
    expect(a.start).toEqual([{ id: '1', bandwidthMiBps: 40 }, { id: '2', bandwidthMiBps: 40 }, { id: '4', bandwidthMiBps: 40 }]);
    expect(a.waiting['3']).toMatch(/bandwidth budget of host-c->host-a: 80 of 100 MiB\/s/);
    // Without a per-move cap a move takes the whole link budget.
    expect(moveBandwidth(limits({ linkBandwidthMiBps: 100 }))).toBe(100);
    expect(moveBandwidth(limits({}))).toBeNull();
    const b = admit([c('1', 'host-a'), c('2', 'host-a')], [], limits({ maxParallel: 8, maxIntoHost: 8, linkBandwidthMiBps: 100 }));
    expect(b.start.map((s) => s.id)).toEqual(['1']);
  });

  it('nothing waiting, nothing starts', () => {
    expect(admit([], [], limits())).toEqual({ start: [], waiting: {} });
  });
});
