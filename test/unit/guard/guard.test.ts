import { describe, expect, it } from 'vitest';
import { DESTRUCTIVE_ACTS, SAFE_IN, judgeAct } from '../../../model/guard';
import { SITUATIONS, classifySituation, type HostView } from '../../../model/situation';

const running = (reason = 'Booted'): HostView => ({ reachable: true, domain: { state: 'running', reason }, job: { type: 'none' } });
const migratingOut = (): HostView => ({ reachable: true, domain: { state: 'running', reason: 'Booted' }, job: { type: 'unbounded', operation: 'migration_out' } });
const postcopySource = (): HostView => ({ reachable: true, domain: { state: 'paused', reason: 'Postcopy' }, job: { type: 'unbounded', operation: 'migration_out' } });
const postcopyDest = (): HostView => ({ reachable: true, domain: { state: 'running', reason: 'Postcopy' }, job: { type: 'unbounded', operation: 'migration_in' } });
const incoming = (): HostView => ({ reachable: true, domain: { state: 'paused', reason: 'Migration' }, job: { type: 'unbounded', operation: 'migration_in' } });
const none = (): HostView => ({ reachable: true, domain: 'none', job: { type: 'none' } });
const unreachable = (): HostView => ({ reachable: false, domain: 'none' });

describe('the guard: destructive acts only where the situation table says they are safe', () => {
  it('never allows an act that could lose the guest once post-copy began, on a split brain, a lost VM or an unknown picture', () => {
    const never: string[] = ['postcopy-running', 'postcopy-broken', 'split-brain', 'vm-lost', 'unknown', 'inconsistent', 'switchover-in-progress'];
    for (const act of DESTRUCTIVE_ACTS) {
      // abort-postcopy is the recovery's own act: it keeps both QEMUs, it only makes a broken post-copy resumable.
      const forbidden = act === 'abort-postcopy' ? never.filter((s) => s !== 'postcopy-broken') : never;
      for (const s of forbidden) expect(SAFE_IN[act]).not.toContain(s);
    }
  });

  it('once post-copy began, the only act allowed is abort-postcopy, and only where post-copy broke', () => {
    for (const act of DESTRUCTIVE_ACTS) {
      expect(SAFE_IN[act]).not.toContain('postcopy-running');
      expect(SAFE_IN[act].includes('postcopy-broken')).toBe(act === 'abort-postcopy');
    }
    expect(SAFE_IN['abort-postcopy']).toEqual(['postcopy-broken']);
  });

  it('every act is safe somewhere, and only in known situations', () => {
    for (const act of DESTRUCTIVE_ACTS) {
      expect(SAFE_IN[act].length).toBeGreaterThan(0);
      for (const s of SAFE_IN[act]) expect(SITUATIONS).toContain(s);
    }
  });

  it('acts that undo the migration and acts that complete it are never safe in the same situation', () => {
    const undo = ['abort-job', 'resume-source', 'clean-destination', 'revert-allocation'] as const;
    const complete = ['clean-source', 'drop-migration-allocation'] as const;
    for (const u of undo) for (const c of complete) for (const s of SAFE_IN[u]) expect(SAFE_IN[c]).not.toContain(s);
  });

  it('an abort during pre-copy is allowed', () => {
    expect(judgeAct('abort-job', classifySituation(migratingOut(), incoming())).allowed).toBe(true);
  });

  it('an abort once the destination runs in post-copy is refused, naming the situation and the next step (the defect: abort applied after post-copy was requested)', () => {
    const v = judgeAct('abort-job', classifySituation(postcopySource(), postcopyDest()));
    expect(v).toMatchObject({ allowed: false, situation: 'postcopy-running', next: 'watch-postcopy-never-abort' });
    if (!v.allowed) expect(v.why).toMatch(/abort-job refused in situation postcopy-running/);
  });

  it('destroying the destination is refused when the guest runs there (it would be the only copy)', () => {
    const v = judgeAct('clean-destination', classifySituation(none(), running('Migrated')));
    expect(v).toMatchObject({ allowed: false, situation: 'done', next: 'finish' });
  });

  it('destroying the destination is allowed for a leftover incoming guest once the source job is over', () => {
    const leftover: HostView = { reachable: true, domain: { state: 'paused', reason: 'Migration' }, job: { type: 'none' } };
    expect(judgeAct('clean-destination', classifySituation(running(), leftover)).allowed).toBe(true);
  });

  it('nothing is allowed while a host does not answer', () => {
    for (const act of DESTRUCTIVE_ACTS) {
      expect(judgeAct(act, classifySituation(running(), unreachable())).allowed).toBe(false);
      expect(judgeAct(act, classifySituation(unreachable(), running())).allowed).toBe(false);
    }
  });

  it('cleaning the source is allowed only once the guest runs on the destination alone', () => {
    const defined: HostView = { reachable: true, domain: { state: 'shutoff', reason: 'Migrated' }, job: { type: 'none' } };
    expect(judgeAct('clean-source', classifySituation(defined, running('Migrated'))).allowed).toBe(true);
    expect(judgeAct('clean-source', classifySituation(running(), none())).allowed).toBe(false);
  });
});
