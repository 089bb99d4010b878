import { describe, expect, it } from 'vitest';
import { admit, DrainLimitsSchema, mayStart, moveBandwidth, type Candidate } from '../../../model/drain';
import { countMigrationsInFlight, NOTHING_IN_FLIGHT, type InFlightCounts, type RunningMigration } from '../../../model/migrations-in-flight';

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
    expect(admit([], [], limits())).toEqual({ start: [], waiting: {}, limitOf: {} });
  });
});

const row = (workflowId: string, source: string | null, destination: string | null, phase: string | null = 'pre-copy'): RunningMigration =>
  ({ workflowId, source, destination, phase });
const elsewhere = (over: Partial<InFlightCounts>): InFlightCounts => ({ ...NOTHING_IN_FLIGHT, ...over });

describe('migrations in flight, as visibility lists them', () => {
  it('counts out of each source, into each destination, per link and in all; the caller and its children left out', () => {
    const counts = countMigrationsInFlight([
      row('migrate-1', 'host-a', 'host-b'), row('migrate-2', 'host-a', 'host-c'), row('migrate-3', 'host-b', 'host-c', 'post-copy'),
      row('migrate-me', 'host-a', 'host-b'), row('migrate-child', 'host-c', 'host-a'),
    ], ['migrate-me', 'migrate-child']);
    expect(counts).toEqual({
      total: 3, outOf: { 'host-a': 2, 'host-b': 1 }, into: { 'host-b': 1, 'host-c': 2 },
      onLink: { 'host-a->host-b': 1, 'host-a->host-c': 1, 'host-b->host-c': 1 }, hostLimits: {},
    });
  });

  it('a migration waiting for admission, for an operator (escalated) or done does not count; one in its pre-checks or without a phase yet does', () => {
    const counts = countMigrationsInFlight([
      row('waits', 'host-a', 'host-b', 'admission'), row('done', 'host-a', 'host-b', 'done'),
      row('checking', 'host-a', null, 'pre-checks'), row('new', 'host-b', null, null), row('escalated', 'host-c', 'host-a', 'escalated'),
      row('copying', 'host-c', 'host-a', 'pre-copy'),
    ], []);
    expect(counts.total).toBe(3);
    expect(counts.outOf).toEqual({ 'host-a': 1, 'host-b': 1, 'host-c': 1 });
    // Into a host only once the destination is chosen.
    expect(counts.into).toEqual({ 'host-a': 1 });
  });

  it('a workflow id listed twice counts once', () => {
    expect(countMigrationsInFlight([row('x', 'host-a', 'host-b'), row('x', 'host-a', 'host-b')], []).total).toBe(1);
  });
});

describe('admission shared by drains and single migrations', () => {
  const single = { maxParallel: 2, maxIntoHost: 2, maxClusterWide: 4, linkBandwidthMiBps: null, moveBandwidthMiBps: null };

  it('a single migration starts while every limit has room', () => {
    expect(mayStart({ source: 'host-a', destination: 'host-b' }, elsewhere({ total: 3, outOf: { 'host-a': 1 }, into: { 'host-b': 1 } }), single))
      .toEqual({ admitted: true });
  });

  it('a single migration waits for the limit that is full, named with its counts', () => {
    const move = { source: 'host-a', destination: 'host-b' };
    expect(mayStart(move, elsewhere({ total: 4 }), single)).toEqual({ admitted: false, limit: 'cluster-wide', reason: 'cluster-wide limit: 4 of 4 migrations run' });
    expect(mayStart(move, elsewhere({ total: 2, outOf: { 'host-a': 2 } }), single)).toEqual({ admitted: false, limit: 'out-of-host', reason: 'limit out of host-a: 2 of 2 run' });
    expect(mayStart(move, elsewhere({ total: 2, into: { 'host-b': 2 } }), single)).toEqual({ admitted: false, limit: 'into-host', reason: 'limit into host-b: 2 of 2 run' });
  });

  it("a host's inventory limit lowers a single migration's", () => {
    const move = { source: 'host-a', destination: 'host-b' };
    const one = elsewhere({ total: 1, outOf: { 'host-a': 1 }, into: { 'host-c': 1 } });
    expect(mayStart(move, one, single).admitted).toBe(true);
    expect(mayStart(move, { ...one, hostLimits: { 'host-a': { maxOutgoing: 1, maxIncoming: null } } }, single))
      .toMatchObject({ admitted: false, limit: 'out-of-host', reason: 'limit out of host-a: 1 of 1 run' });
    expect(mayStart(move, { ...elsewhere({ total: 1, into: { 'host-b': 1 } }), hostLimits: { 'host-b': { maxOutgoing: null, maxIncoming: 1 } } }, single))
      .toMatchObject({ admitted: false, limit: 'into-host' });
  });

  it("a drain counts others' migrations with its own, and says how many are not its own", () => {
    const own = [{ source: 'host-c', destination: 'host-a', bandwidthMiBps: null }];
    const others = elsewhere({ total: 2, outOf: { 'host-c': 1, 'host-x': 1 }, into: { 'host-b': 2 } });
    const a = admit([c('1', 'host-a'), c('2', 'host-b')], own, limits({ maxParallel: 3, maxIntoHost: 2, maxClusterWide: 8 }), undefined, others);
    // Into host-b: 2 of 2, both elsewhere; host-a has room (its one move is the drain's own) but out of host-c is then full.
    expect(a.start.map((s) => s.id)).toEqual(['1']);
    expect(a.waiting['2']).toBe('limit out of host-c: 3 of 3 run (1 of them by other drains or migrations)');
    expect(a.limitOf['2']).toBe('out-of-host');
    const b = admit([c('2', 'host-b')], [], limits({ maxParallel: 4, maxIntoHost: 2 }), undefined, others);
    expect(b.waiting['2']).toBe('limit into host-b: 2 of 2 run (2 of them by other drains or migrations)');
  });

  it('another migration on a budgeted link takes the whole budget (its cap is not known)', () => {
    const l = limits({ maxParallel: 8, maxIntoHost: 8, linkBandwidthMiBps: 100, moveBandwidthMiBps: 40 });
    const a = admit([c('1', 'host-a'), c('2', 'host-b')], [], l, undefined, elsewhere({ total: 1, onLink: { 'host-c->host-a': 1 } }));
    expect(a.start.map((s) => s.id)).toEqual(['2']);
    expect(a.limitOf['1']).toBe('link-bandwidth');
  });
});
