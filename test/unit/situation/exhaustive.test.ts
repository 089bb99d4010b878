/**
 * Every combination of what two hosts can report, checked against the rules the table must keep
 * whatever the row: these catch a new row that contradicts an old promise.
 */
import { describe, expect, it } from 'vitest';
import {
  classifySituation,
  describeHost,
  NEXT_STEP_OF,
  SITUATIONS,
  type HostView,
  type JobType,
  type JobView,
  type Situation,
} from '../../../model/situation';

const DOMAINS: HostView['domain'][] = [
  'none',
  { state: 'shutoff', reason: 'Migrated', persistent: true },
  { state: 'shutoff', reason: 'Shutdown', persistent: true },
  ...['Booted', 'Migrated', 'Unpaused', 'Postcopy', 'PostcopyFailed'].map((reason) => ({ state: 'running' as const, reason })),
  ...['User', 'Migration', 'Postcopy', 'PostcopyFailed'].map((reason) => ({ state: 'paused' as const, reason })),
  { state: 'other', reason: 'Crashed' },
];
const HOST_JOBS: Array<JobType | undefined> = [undefined, 'none', 'unbounded', 'completed', 'failed', 'cancelled'];
const FINAL_JOBS: Array<JobView | undefined> = [undefined, { type: 'completed' }, { type: 'failed' }, { type: 'cancelled' }];

function hosts(): HostView[] {
  const views: HostView[] = [{ reachable: false, domain: 'none' }];
  for (const domain of DOMAINS) {
    for (const job of HOST_JOBS) views.push({ reachable: true, domain, ...(job ? { job: { type: job } } : {}) });
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

const stateOf = (view: HostView | null) =>
  view === null || view.domain === 'none' ? 'none' : view.domain.state;
const postcopySeen = (view: HostView | null) =>
  view !== null && view.domain !== 'none' && /post-?copy/i.test(view.domain.reason);
const hasQemu = (view: HostView | null) => ['running', 'paused'].includes(stateOf(view));

const combinations: Array<[HostView, HostView | null, JobView | undefined]> = [];
for (const source of hosts()) {
  for (const destination of [null, ...hosts()]) {
    for (const job of FINAL_JOBS) combinations.push(deepFreeze([source, destination, job]));
  }
}

describe('situation table: exhaustive invariants', () => {
  const results = combinations.map(([source, destination, job]) => ({
    source,
    destination,
    job,
    verdict: classifySituation(source, destination, job),
  }));
  const failures = (rule: (r: (typeof results)[number]) => boolean) =>
    results
      .filter((r) => !rule(r))
      .slice(0, 5)
      .map((r) => `${r.verdict.explanation} [job ${r.job?.type ?? '-'}] -> ${r.verdict.situation}`);

  it(`covers ${combinations.length} combinations and reaches every situation`, () => {
    const seen = new Set<Situation>(results.map((r) => r.verdict.situation));
    expect([...seen].sort()).toEqual([...SITUATIONS].sort());
  });

  it('gives each situation its one next step, and an explanation naming both states', () => {
    expect(failures((r) => r.verdict.next === NEXT_STEP_OF[r.verdict.situation])).toEqual([]);
    expect(
      failures(
        (r) =>
          r.verdict.explanation.includes(`source ${describeHost(r.source)}`) &&
          r.verdict.explanation.includes(`destination ${describeHost(r.destination)}`),
      ),
    ).toEqual([]);
  });

  it('never guesses about an unreachable host', () => {
    expect(
      failures((r) => (!r.source.reachable || r.destination?.reachable === false) === (r.verdict.situation === 'unknown') || (r.verdict.situation === 'unknown' && (stateOf(r.source) === 'other' || stateOf(r.destination) === 'other'))),
    ).toEqual([]);
  });

  it('escalates whenever the guest runs on both hosts', () => {
    const bothRunning = (r: (typeof results)[number]) =>
      r.source.reachable && r.destination?.reachable === true && stateOf(r.source) === 'running' && stateOf(r.destination) === 'running';
    expect(failures((r) => !bothRunning(r) || r.verdict.situation === 'split-brain')).toEqual([]);
  });

  it('claims success only from both hosts: destination holds the guest, source runs none', () => {
    expect(
      failures((r) => {
        if (r.verdict.situation !== 'done' && r.verdict.situation !== 'switched-over-source-not-cleaned') return true;
        return r.destination !== null && hasQemu(r.destination) && stateOf(r.source) !== 'running' &&
          (r.verdict.situation !== 'done' || r.source.domain === 'none');
      }),
    ).toEqual([]);
  });

  it('never rolls back once post-copy is seen, and only rolls back to a live source', () => {
    expect(failures((r) => r.verdict.next !== 'roll-back' || (!postcopySeen(r.source) && !postcopySeen(r.destination)))).toEqual([]);
    expect(failures((r) => r.verdict.next !== 'roll-back' || hasQemu(r.source))).toEqual([]);
    expect(failures((r) => r.verdict.next !== 'roll-back' || stateOf(r.destination) !== 'running')).toEqual([]);
  });

  it('recovers post-copy only with both QEMUs alive and a failure reported', () => {
    expect(
      failures(
        (r) =>
          r.verdict.next !== 'recover-postcopy' ||
          (hasQemu(r.source) && hasQemu(r.destination) && [r.source, r.destination].some((h) => h?.domain !== 'none' && /failed/i.test(h!.domain.reason))),
      ),
    ).toEqual([]);
  });

  it('keeps watching a pre-copy only while the destination is not running', () => {
    expect(failures((r) => r.verdict.situation !== 'precopy-in-progress' || (hasQemu(r.source) && stateOf(r.destination) !== 'running'))).toEqual([]);
  });

  it('is deterministic and does not touch its inputs (they are frozen)', () => {
    for (const [source, destination, job] of combinations.slice(0, 200)) {
      expect(classifySituation(source, destination, job)).toEqual(classifySituation(source, destination, job));
    }
  });
});
