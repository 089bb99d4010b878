/**
 * The table is exhaustive and unambiguous: every combination of (source class, destination
 * class, job class) matches exactly one row. Then every combination of concrete host views and job
 * views is checked against the rules the table must keep whatever the row: these catch a new row
 * that contradicts an old promise.
 */
import { describe, expect, it } from 'vitest';
import {
  classifySituation,
  DESTINATION_CLASSES,
  describeHost,
  describeJob,
  GUEST_CLASSES,
  JOB_CLASSES,
  jobViewOf,
  NEXT_STEP_OF,
  rowsMatching,
  SITUATION_TABLE,
  SITUATIONS,
  type FinishedJob,
  type HostView,
  type JobType,
  type JobView,
  type Situation,
  type SituationRow,
  type SituationVerdict,
} from '../../../model/situation';

const ANY_DESTINATION = '*' as const;

describe('situation table: the classes', () => {
  const combinations = GUEST_CLASSES.flatMap((s) => DESTINATION_CLASSES.flatMap((d) => JOB_CLASSES.map((j) => [s, d, j] as const)));
  /** Combinations that match no row or several rows of `table`. */
  const problems = (table: readonly SituationRow[]) =>
    combinations
      .map(([s, d, j]) => ({ combination: `${s} | ${d} | ${j}`, rows: rowsMatching(s, d, j, table).map((r) => table.indexOf(r)) }))
      .filter((c) => c.rows.length !== 1);

  it(`matches every one of the ${GUEST_CLASSES.length}x${DESTINATION_CLASSES.length}x${JOB_CLASSES.length} combinations with exactly one row`, () => {
    expect(combinations).toHaveLength(11 * 12 * 5);
    expect(problems(SITUATION_TABLE)).toEqual([]);
  });

  it('has no dead row, and every situation is some row', () => {
    const used = new Set(combinations.flatMap(([s, d, j]) => rowsMatching(s, d, j)));
    expect(SITUATION_TABLE.filter((r) => !used.has(r))).toEqual([]);
    expect([...new Set(SITUATION_TABLE.map((r) => r.situation))].sort()).toEqual([...SITUATIONS].sort());
  });

  it('would catch a row that overlaps another, and a row taken away', () => {
    const overlapping: SituationRow = { source: ['running'], destination: ANY_DESTINATION, job: ['active'], situation: 'precopy-in-progress', why: 'test' };
    expect(problems([...SITUATION_TABLE, overlapping]).map((p) => p.combination)).toContain('running | paused-migration | active');
    expect(problems(SITUATION_TABLE.slice(1)).map((p) => p.combination)).toContain('unreachable | running | none');
  });
});

// ---- concrete views ------------------------------------------------------------------------------

const DOMAINS: HostView['domain'][] = [
  'none',
  { state: 'shutoff', reason: 'Migrated', persistent: true },
  { state: 'shutoff', reason: 'Shutdown', persistent: true },
  ...['Booted', 'Migrated', 'Unpaused', 'Postcopy', 'PostcopyFailed'].map((reason) => ({ state: 'running' as const, reason })),
  ...['User', 'Migration', 'StartingUp', 'Postcopy', 'PostcopyFailed'].map((reason) => ({ state: 'paused' as const, reason })),
  { state: 'other', reason: 'Crashed' },
];
const HOST_JOBS: Array<HostView['job']> = [
  undefined,
  { type: 'none' },
  { type: 'unbounded', operation: 'migration_out' },
  { type: 'unbounded', operation: 'migration_in' },
  { type: 'cancelled', operation: 'migration_out' },
];
const RECORDS: Array<FinishedJob | undefined> = [
  undefined,
  { type: 'completed', operation: 'migration_out', downtimeMs: 67 },
  { type: 'completed', operation: 'migration_in' },
  { type: 'failed', operation: 'migration_out', errorMessage: 'Unable to write to socket' },
];
const KNOWN: Array<JobView | undefined> = [undefined, { type: 'completed' }, { type: 'failed', errorMessage: 'connection reset' }, { type: 'cancelled' }];

function hosts(): HostView[] {
  const views: HostView[] = [{ reachable: false, domain: 'none' }];
  for (const domain of DOMAINS) {
    for (const job of HOST_JOBS) {
      for (const finishedJob of job?.type === 'unbounded' ? [undefined] : RECORDS) {
        views.push({ reachable: true, domain, ...(job ? { job } : {}), ...(finishedJob ? { finishedJob } : {}) });
      }
    }
  }
  return views;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

const stateOf = (view: HostView | null) => (view === null || !view.reachable || view.domain === 'none' ? 'none' : view.domain.state);
const postcopySeen = (view: HostView | null) =>
  view !== null && view.reachable && view.domain !== 'none' && /post-?copy/i.test(view.domain.reason);
const hasQemu = (view: HostView | null) => ['running', 'paused'].includes(stateOf(view));

const combinations: Array<[HostView, HostView | null, JobView | undefined]> = [];
const sources = hosts();
for (const source of sources) {
  for (const destination of [null, ...hosts()]) {
    for (const known of KNOWN) combinations.push(deepFreeze([source, destination, known]));
  }
}

describe('situation table: every combination of views', () => {
  type Result = { source: HostView; destination: HostView | null; job: JobView; verdict: SituationVerdict };
  let memo: Result[] | undefined;
  // Computed in the first test, not while collecting: a broken table fails tests, not the suite.
  const all = (): Result[] =>
    (memo ??= combinations.map(([source, destination, known]) => {
      const job = jobViewOf(source, destination, known);
      return { source, destination, job, verdict: classifySituation(source, destination, job) };
    }));
  const failures = (rule: (r: Result) => boolean) =>
    all()
      .filter((r) => !rule(r))
      .slice(0, 5)
      .map((r) => `${r.verdict.explanation} -> ${r.verdict.situation}`);

  it(`covers ${combinations.length} combinations and reaches every situation`, () => {
    expect(combinations.length).toBeGreaterThan(100_000);
    const seen = new Set<Situation>(all().map((r) => r.verdict.situation));
    expect([...seen].sort()).toEqual([...SITUATIONS].sort());
  });

  it('gives each situation its one next step, and an explanation naming both states and the job', () => {
    expect(failures((r) => r.verdict.next === NEXT_STEP_OF[r.verdict.situation])).toEqual([]);
    expect(
      failures(
        (r) =>
          r.verdict.explanation ===
          `source ${describeHost(r.source)}, destination ${describeHost(r.destination)}: ${SITUATION_TABLE[r.verdict.row]!.why}; ${describeJob(r.job)}`,
      ),
    ).toEqual([]);
  });

  it('never guesses about an unreachable host, and says unknown only for a reason', () => {
    const unreachable = (r: Result) => !r.source.reachable || r.destination?.reachable === false;
    expect(failures((r) => !unreachable(r) || r.verdict.situation === 'unknown')).toEqual([]);
    expect(
      failures((r) => r.verdict.situation !== 'unknown' || unreachable(r) || stateOf(r.source) === 'other' || stateOf(r.destination) === 'other' || r.job.type === 'unknown'),
    ).toEqual([]);
  });

  it('escalates whenever the guest runs on both hosts', () => {
    const bothRunning = (r: Result) =>
      r.source.reachable && r.destination?.reachable === true && stateOf(r.source) === 'running' && stateOf(r.destination) === 'running';
    expect(failures((r) => !bothRunning(r) || r.verdict.situation === 'split-brain')).toEqual([]);
  });

  it('claims success only from both hosts: the destination holds the guest, the source runs none', () => {
    expect(
      failures((r) => {
        if (r.verdict.situation !== 'done' && r.verdict.situation !== 'switched-over-source-not-cleaned') return true;
        return r.destination !== null && hasQemu(r.destination) && stateOf(r.source) !== 'running' &&
          (r.verdict.situation !== 'done' || r.source.domain === 'none');
      }),
    ).toEqual([]);
  });

  it('claims success with a paused destination only when a record says the job completed', () => {
    expect(
      failures((r) => {
        if (r.verdict.next !== 'finish' && r.verdict.next !== 'finish-on-source') return true;
        return stateOf(r.destination) === 'running' || r.job.type === 'completed';
      }),
    ).toEqual([]);
  });

  it('never rolls back once post-copy is seen, and only rolls back to a live source', () => {
    expect(failures((r) => r.verdict.next !== 'roll-back' || (!postcopySeen(r.source) && !postcopySeen(r.destination)))).toEqual([]);
    expect(failures((r) => r.verdict.next !== 'roll-back' || hasQemu(r.source))).toEqual([]);
    expect(failures((r) => r.verdict.next !== 'roll-back' || stateOf(r.destination) !== 'running')).toEqual([]);
  });

  it('never rolls back while the source job runs and a destination guest exists', () => {
    expect(failures((r) => r.verdict.next !== 'roll-back' || r.job.type !== 'unbounded' || r.destination === null || !hasQemu(r.destination))).toEqual([]);
  });

  it('recovers post-copy only with both QEMUs alive and a failure reported', () => {
    expect(
      failures(
        (r) =>
          r.verdict.next !== 'recover-postcopy' ||
          (hasQemu(r.source) && hasQemu(r.destination) && [r.source, r.destination].some((h) => h !== null && h.domain !== 'none' && /failed/i.test(h.domain.reason))),
      ),
    ).toEqual([]);
  });

  it('keeps watching a pre-copy only while the source job runs and the destination is not running', () => {
    expect(
      failures((r) => r.verdict.situation !== 'precopy-in-progress' || (hasQemu(r.source) && stateOf(r.destination) !== 'running' && r.job.type === 'unbounded')),
    ).toEqual([]);
  });

  it('is deterministic and does not touch its inputs (they are frozen)', () => {
    for (const [source, destination, known] of combinations.slice(0, 500)) {
      expect(classifySituation(source, destination, known)).toEqual(classifySituation(source, destination, known));
    }
  });
});

describe('jobViewOf', () => {
  const src = (job?: HostView['job'], finishedJob?: FinishedJob): HostView => ({
    reachable: true, domain: { state: 'running', reason: 'Booted' }, ...(job ? { job } : {}), ...(finishedJob ? { finishedJob } : {}),
  });
  const dst = (finishedJob?: FinishedJob): HostView => ({
    reachable: true, domain: { state: 'running', reason: 'Migrated' }, job: { type: 'none' }, ...(finishedJob ? { finishedJob } : {}),
  });
  const type = (v: JobView): JobType | 'unknown' => v.type;

  it('a running source job wins over anything the caller knows', () => {
    expect(type(jobViewOf(src({ type: 'unbounded' }), dst(), { type: 'failed' }))).toBe('unbounded');
  });
  it("then the caller's knowledge, then the source's record, then the destination's", () => {
    const out: FinishedJob = { type: 'completed', operation: 'migration_out' };
    const inc: FinishedJob = { type: 'failed', operation: 'migration_in' };
    expect(jobViewOf(src({ type: 'none' }, out), dst(inc), { type: 'cancelled' }).type).toBe('cancelled');
    expect(jobViewOf(src({ type: 'none' }, out), dst(inc))).toMatchObject({ type: 'completed', from: "the source's finished-job record" });
    expect(jobViewOf(src({ type: 'none' }), dst(inc))).toMatchObject({ type: 'failed', from: "the destination's finished-job record" });
  });
  it("ignores a record of another operation (the VM's arrival on the source)", () => {
    expect(jobViewOf(src({ type: 'none' }, { type: 'completed', operation: 'migration_in' }), dst()).type).toBe('none');
    expect(jobViewOf(src({ type: 'none' }), dst({ type: 'completed', operation: 'migration_out' })).type).toBe('none');
  });
  it('says unknown when the source job was not read, none when it was read and nothing is kept', () => {
    expect(jobViewOf(src(), dst()).type).toBe('unknown');
    expect(jobViewOf({ reachable: false, domain: 'none' }, dst()).type).toBe('unknown');
    expect(jobViewOf(src({ type: 'none' }), null).type).toBe('none');
  });
  it("takes the source's just-ended current job (libvirt shows 'cancelled' for a few ms after an abort)", () => {
    expect(jobViewOf(src({ type: 'cancelled', operation: 'migration_out' }), dst())).toMatchObject({ type: 'cancelled', operation: 'migration_out' });
  });
});
