import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  abortMigration, advance, idealRun, jobStats, leftToSend, pauseGuest, setBandwidthCap, setMaxDowntime, startPostcopy, startSimMigration,
  type SimMigrationState,
} from '../../../model/sim/dirty-page-model';
import { fitTrace, type RecordedTrace } from '../../../model/sim/trace-fit';

const MiB = 1024 * 1024;
const opts = { capBps: null, maxDowntimeMs: 300 };

function runUntil(s: SimMigrationState, done: (s: SimMigrationState) => boolean, limitMs = 600_000): SimMigrationState {
  let x = s;
  while (!done(x) && x.elapsedMs < limitMs) x = advance(x, 100);
  return x;
}

describe('the dirty-page model', () => {
  it('an idle guest: setup, one pass of its data, a tiny second one, then the switch-over', () => {
    const end = idealRun({ memoryBytes: 256 * MiB, touchedBytes: 64 * MiB, dirtyBps: 0 }, { linkBps: 100 * MiB }, opts);
    expect(end.mode).toBe('completed');
    // 1 s setup + 0.64 s for 64 MiB at 100 MiB/s + 1.5 s to finish.
    expect(end.elapsedMs).toBeGreaterThan(3000);
    expect(end.elapsedMs).toBeLessThan(3300);
    expect(Math.round(end.processed / MiB)).toBe(64);
  });

  it('a guest dirtying slower than the link converges in passes that shrink by dirty/bandwidth', () => {
    const end = idealRun({ memoryBytes: 512 * MiB, dirtyBps: 50 * MiB }, { linkBps: 100 * MiB }, opts);
    expect(end.mode).toBe('completed');
    expect(end.endedBy).toBe('switch-over');
    // 512 MiB, then ~256, 128, 64, 32: below 30 MiB (300 ms at 100 MiB/s) after ~5 passes.
    expect(end.iteration).toBeGreaterThanOrEqual(4);
    expect(end.iteration).toBeLessThanOrEqual(6);
    expect(end.downtimeMs!).toBeLessThanOrEqual(300 + 20);
  });

  it('a guest dirtying faster than the link never converges, and its remaining never falls', () => {
    const s = runUntil(startSimMigration({ memoryBytes: 256 * MiB, dirtyBps: 120 * MiB }, { linkBps: 100 * MiB }, opts), () => false, 30_000);
    expect(s.mode).toBe('precopy');
    expect(jobStats(s).expectedDowntimeMs!).toBeGreaterThan(300);
  });

  it('the working set bounds what one pass re-dirties: a small one converges at a rate that would not', () => {
    const wide = idealRun({ memoryBytes: 1024 * MiB, dirtyBps: 200 * MiB }, { linkBps: 100 * MiB }, opts, 60_000);
    const narrow = idealRun({ memoryBytes: 1024 * MiB, dirtyBps: 200 * MiB, workingSetBytes: 16 * MiB }, { linkBps: 100 * MiB }, opts, 60_000);
    expect(wide.mode).toBe('precopy');
    expect(narrow.mode).toBe('completed');
    expect(narrow.lastPassDirtyBps! * 10.24).toBeLessThan(200 * MiB); // reported rate = set / pass time, well under 200 MiB/s
  });

  it('pausing the guest makes it converge, the pause counting as downtime', () => {
    let s = runUntil(startSimMigration({ memoryBytes: 256 * MiB, dirtyBps: 150 * MiB }, { linkBps: 100 * MiB }, opts), (x) => x.iteration >= 3);
    s = pauseGuest(s);
    const pausedAt = s.elapsedMs;
    expect(jobStats(s).mode).toBe('paused');
    s = runUntil(s, (x) => x.mode === 'completed');
    expect(s.mode).toBe('completed');
    expect(s.downtimeMs!).toBeGreaterThanOrEqual(s.elapsedMs - s.timing.finishMs - pausedAt - 200);
  });

  it('a bandwidth cap slows the passes', () => {
    const start = startSimMigration({ memoryBytes: 256 * MiB, dirtyBps: 0 }, { linkBps: 100 * MiB }, opts);
    const capped = idealRun({ memoryBytes: 256 * MiB, dirtyBps: 0 }, { linkBps: 100 * MiB }, { ...opts, capBps: 25 * MiB });
    const free = idealRun({ memoryBytes: 256 * MiB, dirtyBps: 0 }, { linkBps: 100 * MiB }, opts);
    expect(capped.elapsedMs - free.elapsedMs).toBeGreaterThan(7000); // 10.24 s instead of 2.56 s
    expect(jobStats(advance(setBandwidthCap(start, 10 * MiB), 2000)).memoryBps).toBe(10 * MiB);
  });

  it('post-copy: the guest moves at once, the rest is pulled, faults counted, downtime tiny', () => {
    let s = runUntil(startSimMigration({ memoryBytes: 512 * MiB, dirtyBps: 200 * MiB }, { linkBps: 100 * MiB }, opts), (x) => x.iteration >= 2);
    expect(startPostcopy(startSimMigration({ memoryBytes: MiB, dirtyBps: 0 }, { linkBps: MiB }, opts))).toBeNull(); // before pre-copy: refused
    s = startPostcopy(s)!;
    expect(jobStats(s).guestOn).toBe('destination');
    expect(jobStats(s).mode).toBe('postcopy');
    expect(abortMigration(s)).toBeNull(); // no abort once the guest may run on the destination
    const end = runUntil(s, (x) => x.mode === 'completed');
    expect(end.mode).toBe('completed');
    expect(end.endedBy).toBe('postcopy');
    expect(end.downtimeMs).toBe(5);
    expect(end.postcopyRequests).toBeGreaterThan(0);
    expect(jobStats(end).mode).toBe('postcopy');
  });

  it("post-copy pulls at the link's speed: the pre-copy cap does not hold after the switch (QEMU's max-postcopy-bandwidth), unless a post-copy cap is given", () => {
    const vm = { memoryBytes: 256 * MiB, dirtyBps: 200 * MiB };
    const atSecondPass = (o: typeof opts & { postcopyCapBps?: number }) =>
      startPostcopy(runUntil(startSimMigration(vm, { linkBps: 100 * MiB }, { ...o, capBps: 10 * MiB }), (x) => x.iteration >= 2))!;
    const free = atSecondPass(opts);
    expect(jobStats(advance(free, 1000)).memoryBps).toBe(100 * MiB);
    const capped = atSecondPass({ ...opts, postcopyCapBps: 20 * MiB });
    expect(jobStats(advance(capped, 1000)).memoryBps).toBe(20 * MiB);
    // 256 MiB left: 2.6 s at the link's 100 MiB/s against 12.8 s at 20 MiB/s.
    expect(runUntil(capped, (x) => x.mode === 'completed').elapsedMs - runUntil(free, (x) => x.mode === 'completed').elapsedMs).toBeGreaterThan(9_000);
  });

  it('abort in pre-copy: cancelled, the guest stays on the source', () => {
    const s = runUntil(startSimMigration({ memoryBytes: 256 * MiB, dirtyBps: 150 * MiB }, { linkBps: 100 * MiB }, opts), (x) => x.iteration >= 2);
    const aborted = abortMigration(s)!;
    expect(jobStats(aborted)).toMatchObject({ job: 'cancelled', guestOn: 'source' });
    expect(advance(aborted, 10_000).elapsedMs).toBe(aborted.elapsedMs); // nothing moves after the end
  });

  it('auto-converge throttles the guest until a non-converging migration converges', () => {
    const shape = { memoryBytes: 256 * MiB, dirtyBps: 150 * MiB };
    expect(idealRun(shape, { linkBps: 100 * MiB }, opts, 120_000).mode).toBe('precopy');
    const auto = idealRun(shape, { linkBps: 100 * MiB }, { ...opts, autoConverge: true }, 120_000);
    expect(auto.mode).toBe('completed');
    expect(auto.throttle).toBeGreaterThan(0.3);
  });

  it('the job stats carry the fields the real watch reads', () => {
    const s = advance(startSimMigration({ memoryBytes: 256 * MiB, dirtyBps: 10 * MiB }, { linkBps: 100 * MiB }, opts), 1500);
    const j = jobStats(s);
    expect(j).toMatchObject({ job: 'running', mode: 'precopy', iteration: 1, dataTotal: 256 * MiB, memoryBps: 100 * MiB });
    expect(j.dataProcessed + j.dataRemaining).toBe(256 * MiB);
    expect(jobStats(startSimMigration({ memoryBytes: MiB, dirtyBps: 0 }, { linkBps: MiB }, opts))).toMatchObject({ mode: 'setup', iteration: null, dataTotal: 0 });
  });
});

/**
 * Each recorded lab trace's RAM, bandwidth and dirty rate fed to the model: the total time must
 * come within 15 % (measured: -12 % for the idle one, +3.4 % and +2.5 % for the converging ones; the
 * non-converging ones are aborted by the recorder and agree to the abort). Iterations: exact or
 * one off when the guest does not converge; the model UNDERcounts them when it converges (9 vs
 * 16, 30 vs 45): QEMU syncs its bitmap more often near the end than one sync per whole pass.
 */
describe('what is dirty counts each page once', () => {
  // A 16 MiB set rewritten every 10 ms (1600 MiB/s) over a 32 MiB/s link: a pass of the set takes 500 ms.
  const hot = () => startSimMigration({ memoryBytes: 128 * MiB, dirtyBps: 1600 * MiB, workingSetBytes: 16 * MiB }, { linkBps: 32 * MiB }, { capBps: null, maxDowntimeMs: 300 });
  it('post-copy after the first pass pulls the working set once, however often it was rewritten', () => {
    let s = hot();
    while (s.iteration < 2) s = advance(s, 20);
    s = advance(s, 200); // 200 ms into pass 2: part of the set sent, all of it dirty again
    expect(s.passLeft + s.dirtied).toBeGreaterThan(16 * MiB);
    expect(leftToSend(s)).toBe(16 * MiB);
    expect(startPostcopy(s)!.postcopyLeft).toBe(16 * MiB);
  });
  it('pre-copy of a hot set switches over once the whole set fits the max downtime, not twice the set', () => {
    let s = setMaxDowntime(hot(), 520); // 16 MiB at 32 MiB/s: 500 ms
    for (let i = 0; i < 200 && (s.mode === 'precopy' || s.mode === 'setup'); i++) s = advance(s, 100);
    expect(s.endedBy).toBe('switch-over');
    expect(s.downtimeMs!).toBeLessThanOrEqual(520 + 20);
    let never = setMaxDowntime(hot(), 480);
    never = advance(never, 20_000);
    expect(never.mode).toBe('precopy');
  });
});

describe('the model against the recorded lab traces', () => {
  const dir = path.resolve(__dirname, '../../fixtures/traces');
  const traces = fs.readdirSync(dir).filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as RecordedTrace);

  it.each(traces.map((t) => [t.name, t] as const))('%s', (_name, trace) => {
    const fit = fitTrace(trace);
    const limit = trace.meta.abortAfterMs ?? 600_000;
    const end = runUntil(startSimMigration(fit.vm, fit.link, opts), (x) => x.mode === 'completed', limit);
    if (trace.result.outcome === 'completed') {
      expect(end.mode).toBe('completed');
      expect(Math.abs(end.elapsedMs - trace.result.totalMs) / trace.result.totalMs).toBeLessThan(0.15);
      expect(end.iteration).toBeLessThanOrEqual(trace.result.lastIteration!);
      expect(end.iteration).toBeGreaterThanOrEqual(Math.floor(trace.result.lastIteration! / 2));
    } else {
      expect(end.mode).toBe('precopy'); // still not converged when the recorder aborted it
      expect(Math.abs(end.iteration - trace.result.lastIteration!)).toBeLessThanOrEqual(1);
    }
  });
});
