import { describe, expect, it } from 'vitest';
import {
  abortUpdate,
  decisionsQuery,
  forceCompleteUpdate,
  resumeRecoveryUpdate,
  LIVE_MIGRATION_WORKFLOW_TYPE,
  policyQuery,
  progressQuery,
  QUERY_NAMES,
  setBandwidthUpdate,
  setMaxDowntimeUpdate,
  TASK_QUEUE,
  UPDATE_NAMES,
} from '../../../workflows/definitions';
import {
  AbortInputSchema,
  assertValid,
  DecisionSchema,
  ForceCompleteInputSchema,
  InvalidInputError,
  OutcomeSchema,
  PHASES,
  PhaseSchema,
  ProgressSchema,
  SetBandwidthInputSchema,
  SetMaxDowntimeInputSchema,
  UpdateResultSchema,
  type Outcome,
  type Progress,
} from '../../../model/types';

describe('definitions', () => {
  it('names the task queue, workflow type, updates and queries once', () => {
    expect(TASK_QUEUE).toBe('ferry');
    expect(LIVE_MIGRATION_WORKFLOW_TYPE).toBe('liveMigration');
    expect([abortUpdate, forceCompleteUpdate, setMaxDowntimeUpdate, setBandwidthUpdate, resumeRecoveryUpdate].map((d) => [d.type, d.name])).toEqual([
      ['update', 'abort'],
      ['update', 'forceComplete'],
      ['update', 'setMaxDowntime'],
      ['update', 'setBandwidth'],
      ['update', 'resumeRecovery'],
    ]);
    expect([progressQuery, policyQuery, decisionsQuery].map((d) => [d.type, d.name])).toEqual([
      ['query', 'progress'],
      ['query', 'policy'],
      ['query', 'decisions'],
    ]);
    expect(UPDATE_NAMES).toEqual(['abort', 'forceComplete', 'setMaxDowntime', 'setBandwidth', 'resumeRecovery']);
    expect(QUERY_NAMES).toEqual(['progress', 'policy', 'decisions']);
  });
});

describe('operator update inputs', () => {
  const refused = (schema: Parameters<typeof assertValid>[0], input: unknown) => {
    try {
      assertValid(schema, input, 'setMaxDowntime input');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidInputError);
      return (error as InvalidInputError).issues;
    }
    throw new Error('expected a refusal');
  };

  it('setMaxDowntime: ms is an integer in 1..2000000', () => {
    expect(assertValid(SetMaxDowntimeInputSchema, { ms: 500 }, 'x')).toEqual({ ms: 500 });
    expect(assertValid(SetMaxDowntimeInputSchema, { ms: 2_000_000 }, 'x')).toEqual({ ms: 2_000_000 });
    expect(refused(SetMaxDowntimeInputSchema, { ms: 0 })).toEqual(['ms: must be at least 1 (got 0)']);
    expect(refused(SetMaxDowntimeInputSchema, { ms: 2_000_001 })).toEqual(['ms: must be at most 2000000 (got 2000001)']);
    expect(refused(SetMaxDowntimeInputSchema, { ms: 1.5 })).toEqual(['ms: must be an integer (got 1.5)']);
    expect(refused(SetMaxDowntimeInputSchema, {})).toEqual(['ms: is required (must be a number)']);
    expect(refused(SetMaxDowntimeInputSchema, undefined)).toEqual(['input: is required (must be an object { ms })']);
    expect(refused(SetMaxDowntimeInputSchema, { ms: 5, seconds: 1 })).toEqual(['seconds: unknown field (allowed fields: ms)']);
  });

  it('setBandwidth: mibps is an integer in 1..1000000', () => {
    expect(assertValid(SetBandwidthInputSchema, { mibps: 1 }, 'x')).toEqual({ mibps: 1 });
    expect(refused(SetBandwidthInputSchema, { mibps: 0 })).toEqual(['mibps: must be at least 1 (got 0)']);
    expect(refused(SetBandwidthInputSchema, { mibps: 1_000_001 })).toEqual(['mibps: must be at most 1000000 (got 1000001)']);
    expect(refused(SetBandwidthInputSchema, { bps: 5 })).toEqual([
      'mibps: is required (must be a number)',
      'bps: unknown field (allowed fields: mibps)',
    ]);
  });

  it('abort and forceComplete accept no input at all (the Temporal CLI sends none)', () => {
    expect(assertValid(AbortInputSchema, undefined, 'x')).toEqual({});
    expect(assertValid(AbortInputSchema, { reason: 'maintenance cancelled' }, 'x')).toEqual({ reason: 'maintenance cancelled' });
    expect(refused(AbortInputSchema, { reason: 3 })).toEqual(['reason: must be a string (got 3)']);
    expect(assertValid(ForceCompleteInputSchema, undefined, 'x')).toEqual({});
    expect(assertValid(ForceCompleteInputSchema, {}, 'x')).toEqual({});
    expect(refused(ForceCompleteInputSchema, { now: true })).toEqual(['now: unknown field (allowed fields: none)']);
  });

  it('an error message starts with what was being parsed', () => {
    expect(() => assertValid(SetMaxDowntimeInputSchema, { ms: 0 }, 'setMaxDowntime input')).toThrow(
      'invalid setMaxDowntime input: ms: must be at least 1 (got 0)',
    );
  });

  it('an accepted update answers { accepted: true, message }', () => {
    expect(UpdateResultSchema.parse({ accepted: true, message: 'max downtime 500 ms' })).toBeTruthy();
    expect(UpdateResultSchema.safeParse({ accepted: false, message: 'no' }).success).toBe(false);
  });
});

describe('progress, decisions, outcome', () => {
  const progress: Progress = {
    phase: 'pre-copy',
    percent: 42,
    etaMs: 12_000,
    iteration: 3,
    dataTotal: 536_870_912,
    dataRemaining: 311_385_129,
    bandwidthBps: 104_857_600,
    dirtyBps: 20_971_520,
    expectedDowntimeMs: 2970,
    verdict: 'converging',
    mode: 'precopy',
    source: 'host-a',
    destination: 'host-b',
    startedAt: '2026-11-22T05:00:00.000Z',
    updatedAt: '2026-11-22T05:00:12.500Z',
  };

  it('has the twelve phases in order', () => {
    expect(PHASES[0]).toBe('validating');
    expect(PHASES.at(-1)).toBe('done');
    expect(PhaseSchema.safeParse('migrating').success).toBe(false);
  });

  it('progress: accepts a real answer and the unknowns as null', () => {
    expect(ProgressSchema.parse(progress)).toEqual(progress);
    const early = { ...progress, phase: 'pre-checks', percent: 0, etaMs: null, iteration: null, bandwidthBps: null, dirtyBps: null, expectedDowntimeMs: null, verdict: null, mode: null, destination: null };
    expect(ProgressSchema.safeParse(early).success).toBe(true);
  });

  it('progress: refuses percent outside 0..100 and non-ISO times', () => {
    expect(ProgressSchema.safeParse({ ...progress, percent: 101 }).success).toBe(false);
    expect(ProgressSchema.safeParse({ ...progress, percent: -1 }).success).toBe(false);
    expect(ProgressSchema.safeParse({ ...progress, startedAt: 'yesterday' }).success).toBe(false);
  });

  it('decision: keeps the numbers that led to it', () => {
    const decision = { atMs: 4000, action: 'raise-max-downtime', reason: 'iteration 3 >= 2', inputs: { iteration: 3, maxDowntimeMs: 300, verdict: 'stalled', eligible: true, previous: null } };
    expect(DecisionSchema.parse(decision)).toEqual(decision);
    expect(DecisionSchema.safeParse({ ...decision, inputs: { nested: { a: 1 } } }).success).toBe(false);
  });

  it('outcome: exactly the shape issue 3 asks for, with optional extras', () => {
    const outcome: Outcome = {
      migrationId: 'migrate-6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9',
      outcome: 'completed',
      mode: 'postcopy',
      source: 'host-a',
      destination: 'host-b',
      totalMs: 1450,
      downtimeMs: 4,
      guestMaxStallMs: null,
      bytes: 62_000_000_000,
      iterations: 1,
      decisions: [{ atMs: 300, action: 'switch-to-postcopy', reason: 'first pass done' }],
      hosts: { source: 'none', destination: 'running (Migrated)' },
    };
    expect(OutcomeSchema.parse(outcome)).toEqual(outcome);
    const full = {
      ...outcome,
      outcome: 'rolled_back',
      mode: 'precopy',
      downtimeMs: null,
      bytes: null,
      iterations: null,
      error: { message: 'CPU incompatible', type: 'PreCheckFailed' },
      resolvedPolicy: { postcopy: { allowed: false } },
      vm: { name: 'web-7', uuid: '6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9' },
    };
    expect(OutcomeSchema.safeParse(full).success).toBe(true);
    for (const kind of ['completed', 'rolled_back', 'aborted', 'failed']) {
      expect(OutcomeSchema.safeParse({ ...outcome, outcome: kind }).success).toBe(true);
    }
    expect(OutcomeSchema.safeParse({ ...outcome, outcome: 'succeeded' }).success).toBe(false);
    expect(OutcomeSchema.safeParse({ ...outcome, mode: 'auto-converge' }).success).toBe(false);
  });
});
