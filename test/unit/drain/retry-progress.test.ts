import { describe, expect, it } from 'vitest';
import {
  afterFailedAttempt, applyCancel, backoffMs, cancelEffect, drainCounts, drainEtaMs, drainReport, DrainRetrySchema, initialMoves, planDrain,
  type MoveState,
} from '../../../model/drain';
import { dest, facts, vm } from './facts';

const retry = DrainRetrySchema.parse({ maxAttempts: 3, initialBackoffSeconds: 10, maxBackoffSeconds: 25 });
const base = { triedDestinations: ['host-a'], lastEnd: 'failed' as const, lastError: 'libvirt said no', cancelRequested: false };

describe('drain retries: a circuit breaker', () => {
  it('retries on another destination with growing backoff, then gives up and reports', () => {
    expect(afterFailedAttempt(retry, { ...base, attempts: 1 })).toEqual({ kind: 'retry', afterMs: 10_000, exclude: ['host-a'] });
    expect(afterFailedAttempt(retry, { ...base, attempts: 2, triedDestinations: ['host-a', 'host-b'] })).toEqual({ kind: 'retry', afterMs: 20_000, exclude: ['host-a', 'host-b'] });
    const last = afterFailedAttempt(retry, { ...base, attempts: 3, triedDestinations: ['host-a', 'host-b', 'host-a'] });
    expect(last).toEqual({ kind: 'give-up', status: 'failed', reason: '3 attempts failed (on host-a, host-b, host-a), the limit is 3: libvirt said no' });
    expect(backoffMs(retry, 5)).toBe(25_000); // capped
  });

  it('maxAttempts 1: no retry at all', () => {
    const once = DrainRetrySchema.parse({ maxAttempts: 1 });
    expect(afterFailedAttempt(once, { ...base, attempts: 1 })).toMatchObject({ kind: 'give-up', status: 'failed' });
  });

  it('an operator abort of the child and a cancelled drain are never retried', () => {
    expect(afterFailedAttempt(retry, { ...base, attempts: 1, lastEnd: 'rolled_back' })).toMatchObject({ kind: 'give-up', status: 'aborted' });
    expect(afterFailedAttempt(retry, { ...base, attempts: 1, cancelRequested: true })).toMatchObject({ kind: 'give-up', status: 'cancelled' });
  });
});

describe('drain progress, cancel and report', () => {
  const plan = planDrain(facts([vm('a', 128), vm('b', 256), vm('c', 512), vm('huge', 99_999)], [dest('host-a', 4096)]), { moveBandwidthBps: null });

  it('starts with the planned moves waiting and the rest cannot move', () => {
    const moves = initialMoves(plan);
    expect(drainCounts(moves)).toEqual({ total: 4, moved: 0, inFlight: 0, waiting: 3, failed: 0, cannotMove: 1, cancelled: 0, aborted: 0 });
    expect(drainEtaMs(moves, 0, 2)).toBeNull();
  });

  it('ETA from the mean duration of completed moves, over the parallelism', () => {
    const moves = initialMoves(plan);
    const [a, b] = moves as [MoveState, MoveState];
    a.status = 'moved';
    a.attempts = [{ destination: 'host-a', outcome: 'completed', durationMs: 10_000, error: null }];
    b.status = 'in-flight';
    b.startedAtMs = 1_000;
    // c waits (10 s) + b has 10 - 4 = 6 s left, two at a time.
    expect(drainEtaMs(moves, 5_000, 2)).toBe(8_000);
    expect(drainEtaMs(moves, 5_000, 1)).toBe(16_000);
  });

  it('cancel: waiting moves are cancelled, in-flight ones finish or are asked to abort', () => {
    const moves = initialMoves(plan);
    moves[0]!.status = 'in-flight';
    expect(cancelEffect(moves, false)).toEqual({ cancelled: [moves[1]!.vm.uuid, moves[2]!.vm.uuid], abort: [] });
    expect(cancelEffect(moves, true).abort).toEqual([moves[0]!.vm.uuid]);
    applyCancel(moves, 'operator');
    expect(moves.map((m) => m.status)).toEqual(['in-flight', 'cancelled', 'cancelled', 'cannot-move']);
    expect(moves[1]!.reason).toBe('cancelled before it started (operator)');
  });

  it('the report lists every VM, where it went and why any stayed', () => {
    const moves = initialMoves(plan);
    for (const m of moves.slice(0, 3)) {
      m.status = 'moved';
      m.attempts = [{ destination: 'host-a', outcome: 'completed', durationMs: 1000, error: null }];
    }
    const r = drainReport(plan, moves, { cancelled: false, dryRun: false, totalMs: 5000, maintenance: 'in maintenance', released: [] });
    expect(r.result).toBe('partial');
    expect(r.vms.map((v) => [v.vm.name, v.status, v.destination])).toEqual([['a', 'moved', 'host-a'], ['b', 'moved', 'host-a'], ['c', 'moved', 'host-a'], ['huge', 'cannot-move', null]]);
    expect(r.vms[3]!.reason).toMatch(/^no-room: /);
    const all = drainReport({ ...plan, cannotMove: [] }, moves.slice(0, 3), { cancelled: false, dryRun: false, totalMs: 1, maintenance: '', released: [] });
    expect(all.result).toBe('drained');
    expect(drainReport(plan, moves, { cancelled: true, dryRun: false, totalMs: 1, maintenance: '', released: [] }).result).toBe('cancelled');
  });
});
