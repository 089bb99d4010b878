/**
 * Every destructive act against both hosts' views: for each act, observations in which the guard
 * allows it and observations in which it refuses it. The last test keeps the table complete: an
 * act added to DESTRUCTIVE_ACTS without an allowed and a refused case here fails it.
 */
import { describe, expect, it } from 'vitest';
import { DESTRUCTIVE_ACTS, SAFE_IN, judgeAct, type DestructiveAct } from '../../../model/guard';
import { classifySituation, type FinishedJob, type HostView } from '../../../model/situation';

const completedOut: FinishedJob = { type: 'completed', operation: 'migration_out' };
const view = (state: 'running' | 'paused' | 'shutoff', reason: string, job: HostView['job'] = { type: 'none' }, finishedJob?: FinishedJob): HostView =>
  ({ reachable: true, domain: { state, reason }, job, ...(finishedJob ? { finishedJob } : {}) });

const V = {
  running: () => view('running', 'Booted'),
  migratingOut: () => view('running', 'Booted', { type: 'unbounded', operation: 'migration_out' }),
  migrated: () => view('running', 'Migrated'),
  none: (): HostView => ({ reachable: true, domain: 'none', job: { type: 'none' } }),
  unreachable: (): HostView => ({ reachable: false, domain: 'none' }),
  /** The source after a success: shut off, still defined, with the completed record (KEEP_COMPLETED). */
  definedCompleted: () => view('shutoff', 'Migrated', { type: 'none' }, completedOut),
  definedNoRecord: () => view('shutoff', 'Migrated'),
  incoming: () => view('paused', 'Migration', { type: 'unbounded', operation: 'migration_in' }),
  startingUp: () => view('paused', 'StartingUp', { type: 'unbounded', operation: 'migration_in' }),
  leftover: () => view('paused', 'Migration'),
  pausedByUser: () => view('paused', 'User'),
  postcopySource: () => view('paused', 'Postcopy', { type: 'unbounded', operation: 'migration_out' }),
  postcopySourceFailed: () => view('paused', 'PostcopyFailed', { type: 'unbounded', operation: 'migration_out' }),
  switchoverSource: () => view('paused', 'Migration', { type: 'unbounded', operation: 'migration_out' }),
  postcopyDest: () => view('running', 'Postcopy', { type: 'unbounded', operation: 'migration_in' }),
  postcopyDestFailed: () => view('running', 'PostcopyFailed', { type: 'unbounded', operation: 'migration_in' }),
  postcopyDestFailedPaused: () => view('paused', 'PostcopyFailed', { type: 'unbounded', operation: 'migration_in' }),
};

interface Case { act: DestructiveAct; allowed: boolean; name: string; source: HostView; destination: HostView | null }
const allow = (act: DestructiveAct, name: string, source: HostView, destination: HostView | null): Case => ({ act, allowed: true, name, source, destination });
const refuse = (act: DestructiveAct, name: string, source: HostView, destination: HostView | null): Case => ({ act, allowed: false, name, source, destination });

const CASES: Case[] = [
  allow('abort-job', 'pre-copy runs', V.migratingOut(), V.incoming()),
  refuse('abort-job', 'the destination runs in post-copy', V.postcopySource(), V.postcopyDest()),
  refuse('abort-job', 'the guest runs on the destination alone', V.none(), V.migrated()),

  allow('resume-source', 'the guest is on the source, nothing on the destination', V.leftover(), V.none()),
  refuse('resume-source', 'the guest runs on the destination', V.definedCompleted(), V.migrated()),
  refuse('resume-source', 'post-copy is broken', V.postcopySource(), V.postcopyDestFailed()),

  allow('clean-destination', 'a leftover incoming guest after the job ended', V.running(), V.leftover()),
  refuse('clean-destination', 'the guest runs there alone', V.none(), V.migrated()),
  refuse('clean-destination', 'pre-copy still runs', V.migratingOut(), V.incoming()),

  allow('revert-allocation', 'the guest runs on the source only, no job', V.running(), V.none()),
  refuse('revert-allocation', 'the guest runs on the destination', V.definedCompleted(), V.migrated()),

  allow('drop-migration-allocation', 'the guest runs on the destination alone', V.none(), V.migrated()),
  refuse('drop-migration-allocation', 'the guest runs on the source only', V.running(), V.none()),

  allow('clean-source', 'the destination runs the guest, the source keeps its definition', V.definedCompleted(), V.migrated()),
  allow('clean-source', 'the destination runs the guest, the source holds nothing', V.none(), V.migrated()),
  allow('clean-source', 'the job completed in post-copy and the destination still says Postcopy', V.definedCompleted(), V.postcopyDest()),
  allow('clean-source', 'the job completed and libvirt left the destination guest paused (User) after Finish', V.definedCompleted(), V.pausedByUser()),
  refuse('clean-source', 'the destination shows nothing', V.definedCompleted(), V.none()),
  refuse('clean-source', 'the destination holds only a shut-off definition', V.definedCompleted(), V.definedNoRecord()),
  refuse('clean-source', "the destination guest is still incoming (paused, Migration), even with the source's completed record", V.definedCompleted(), V.incoming()),
  refuse('clean-source', 'the destination guest is starting up (paused, StartingUp), even with a completed record', V.definedCompleted(), V.startingUp()),
  refuse('clean-source', 'the destination guest is incoming and no record says the job completed', V.definedNoRecord(), V.incoming()),
  refuse('clean-source', 'the destination guest is paused and no record says the job completed', V.definedNoRecord(), V.pausedByUser()),
  refuse('clean-source', 'the destination does not answer', V.definedCompleted(), V.unreachable()),
  refuse('clean-source', 'the guest runs on both hosts', V.running(), V.migrated()),
  refuse('clean-source', 'the guest runs on the source only', V.running(), V.none()),

  allow('abort-postcopy', 'the destination runs in post-copy failed, the source still sends', V.postcopySource(), V.postcopyDestFailed()),
  allow('abort-postcopy', 'the destination is paused in post-copy failed, the source still sends', V.postcopySource(), V.postcopyDestFailedPaused()),
  refuse('abort-postcopy', 'the destination has no domain', V.postcopySource(), V.none()),
  refuse('abort-postcopy', 'the destination holds only a shut-off definition', V.postcopySource(), V.definedNoRecord()),
  refuse('abort-postcopy', 'post-copy runs on both sides (healthy: never interrupted)', V.postcopySource(), V.postcopyDest()),
  refuse('abort-postcopy', 'the source already shows post-copy failed (nothing left to pause)', V.postcopySourceFailed(), V.postcopyDestFailed()),
  refuse('abort-postcopy', 'the source is paused for the switch-over, not in post-copy', V.switchoverSource(), V.postcopyDestFailed()),
  refuse('abort-postcopy', 'the destination runs the guest on its own (Migrated)', V.postcopySourceFailed(), V.migrated()),
  refuse('abort-postcopy', 'pre-copy runs', V.migratingOut(), V.incoming()),
  refuse('abort-postcopy', 'the destination does not answer', V.postcopySource(), V.unreachable()),
  refuse('abort-postcopy', 'no destination was chosen', V.running(), null),
];

describe('each destructive act, allowed and refused by both hosts\' views', () => {
  it.each(CASES.map((c) => [`${c.act} ${c.allowed ? 'allowed' : 'refused'}: ${c.name}`, c] as const))('%s', (_, c) => {
    const where = classifySituation(c.source, c.destination);
    const v = judgeAct(c.act, where);
    expect(v.allowed, `${where.situation}: ${where.explanation}`).toBe(c.allowed);
    if (!v.allowed) {
      expect(v.why).toMatch(new RegExp(`^${c.act} refused in situation ${where.situation}`));
      expect(v.next).toBe(where.next);
    } else {
      expect(SAFE_IN[c.act]).toContain(where.situation);
    }
  });

  it('every act in DESTRUCTIVE_ACTS has SAFE_IN entries and at least one allowed and one refused case above', () => {
    for (const act of DESTRUCTIVE_ACTS) {
      expect(SAFE_IN[act].length, act).toBeGreaterThan(0);
      expect(CASES.some((c) => c.act === act && c.allowed), `${act}: an allowed case`).toBe(true);
      expect(CASES.some((c) => c.act === act && !c.allowed), `${act}: a refused case`).toBe(true);
    }
  });

  it('a refusal for a guest class names the class and what the act needs', () => {
    const v = judgeAct('clean-source', classifySituation(V.definedCompleted(), V.incoming()));
    expect(v).toMatchObject({ allowed: false, situation: 'switched-over-source-not-cleaned' });
    if (!v.allowed) expect(v.why).toMatch(/the destination guest is paused-migration; safe only with running, running-postcopy, paused/);
  });
});
