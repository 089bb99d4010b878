import { condition, log, patched, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { FerryPhase } from '../../model/search-attributes';
import type { MigrationSample, RecoverResult } from '../../model/activity-contract';
import { recoverPostcopy } from '../activity-proxies';
import { countEscalation, countPostcopyRecovery } from '../metrics';
import type { MigrationRecord } from '../migration-record';
import { continueFlight, destXmlRef, enterPhase, showEscalation, type Migration, type MigrationInFlight, type RecoveryInFlight } from '../migration-state';

/** Resume attempts before the recovery escalates (each preceded by a fresh look at both hosts). */
const MAX_RESUME_ATTEMPTS = 10;
/** One recovery call observes and waits at most this long before returning "not yet". */
const RECOVER_CALL_MAX_WAIT_MS = 60_000;
/** A "not yet" that lasts longer escalates (post-copy paused this long is an operator's matter). */
const NOT_YET_PATIENCE_MS = 5 * 60_000;
/** Once escalated, both hosts are still observed at this pace (never destroyed, never guessed). */
const ESCALATED_OBSERVE_MS = 15_000;
/**
 * Once escalated, the run continues as new past this many history events (about 11 a round: a
 * bit over 2 h at 15 s), or sooner when Temporal suggests it; far below its 50k-event limit.
 */
const ESCALATED_HISTORY_EVENTS = 5_000;

/**
 * A broken post-copy is recovered, never destroyed on either side. The activity observes both
 * hosts before every act and says what it found: resumed (post-copy runs again or completed),
 * finished on its own (QEMU completed: the watch loop sees the job ended and finishes), not yet
 * (call again), or escalate (an operator must act; ferry keeps observing and never destroys).
 */
/**
 * The escalated state: queryable (phase 'escalated' and the progress' escalation), found by
 * visibility (FerryPhase = 'escalated'), and an alert in the worker's log at error level. Nothing
 * is destroyed on either host.
 */
function escalate(m: Migration, r: RecoverResult): void {
  showEscalation(m, r.reason ?? 'unknown', r.why);
  countEscalation('postcopy-recovery');
  log.error('ferry: post-copy recovery escalated, an operator must act', {
    workflowId: workflowInfo().workflowId, reason: r.reason, why: r.why, errors: r.errors.join(' | '), hosts: `${r.hosts.source} / ${r.hosts.destination}`,
    next: `ferry resume-recovery ${workflowInfo().workflowId} once the cause is fixed`,
  });
}

/**
 * A run continued while escalated (flight.recovery) shows the same escalation from its first
 * moment — phase 'escalated', the progress' escalation (same since), FerryPhase — before its
 * update handlers are registered, so a resumeRecovery sent to the new run is accepted.
 */
export function restoreEscalation(rec: MigrationRecord, recovery: RecoveryInFlight): void {
  rec.setPhase('escalated', Date.now());
  rec.progress = { ...rec.progress, escalation: recovery.escalation };
  if (recovery.resumeRequested) rec.resumeRecoveryRequested = true;
  upsertSearchAttributes([{ key: FerryPhase, value: 'escalated' }]);
}

/** Escalated long enough that the history should be cut (Temporal's limit is 50k events / 50 MB). */
function historyIsLong(flight: MigrationInFlight): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || info.historyLength >= (flight.limits?.escalatedHistoryEvents ?? ESCALATED_HISTORY_EVENTS);
}

/**
 * `s`: the sample that showed post-copy broken; null when a run continued while escalated comes
 * back to the recovery (flight.recovery: attempts, escalation and operator requests carried).
 */
export async function recover(m: Migration, flight: MigrationInFlight, s: MigrationSample | null): Promise<void> {
  const carried = flight.recovery;
  flight.recovery = undefined;
  if (!carried) {
    enterPhase(m, 'recovering');
    m.rec.decide(Date.now(), 'recover-postcopy', `post-copy broke (source ${JSON.stringify(s?.source.domain)}, destination ${JSON.stringify(s?.destination.domain)}): recovering it (both hosts observed before every act)`);
    if (!patched('postcopy-recovery-observed')) {
      // Histories recorded before the observed recovery: one call, its result recorded as it came.
      const r: unknown = await recoverPostcopy({ vm: flight.vm, source: flight.source, destination: flight.destination, ...destXmlRef(flight) });
      m.rec.decide(Date.now(), 'recovered', typeof r === 'string' ? r : (r as RecoverResult).why);
      enterPhase(m, 'post-copy');
      return;
    }
  }
  const observeMs = flight.limits?.escalatedObserveMs ?? ESCALATED_OBSERVE_MS;
  let attempts = carried?.attempts ?? 0;
  let notYetSinceMs: number | undefined = carried?.notYetSinceMs;
  let lastNoted = carried?.lastNoted ?? '';
  const note = (key: string, action: string, why: string, r: RecoverResult) => {
    if (key === lastNoted) return;
    lastNoted = key;
    m.rec.decide(Date.now(), action, `${why} [source ${r.hosts.source}; destination ${r.hosts.destination}]`, { attempts });
  };
  /** An operator's resumeRecovery: a fresh round of attempts at once. */
  const operatorResumes = () => {
    m.rec.resumeRecoveryRequested = false;
    attempts = 0;
    notYetSinceMs = undefined;
    lastNoted = '';
    m.rec.decide(Date.now(), 'resume-recovery', 'operator: try the recovery again (attempts start from 0)');
    m.rec.progress = { ...m.rec.progress, escalation: null };
    enterPhase(m, 'recovering');
  };
  // Asked for in the run before, or as the new run began.
  if (carried && m.rec.resumeRecoveryRequested) operatorResumes();
  for (;;) {
    const r = await recoverPostcopy({
      vm: flight.vm, source: flight.source, destination: flight.destination, ...destXmlRef(flight),
      attemptsSoFar: attempts, maxAttempts: MAX_RESUME_ATTEMPTS, maxWaitMs: RECOVER_CALL_MAX_WAIT_MS,
      patienceMs: NOT_YET_PATIENCE_MS, ...(notYetSinceMs !== undefined ? { notYetSinceMs } : {}),
    });
    attempts += r.attempts;
    switch (r.outcome) {
      case 'resumed':
        m.rec.decide(Date.now(), 'recovered', `${r.why}${r.errors.length > 0 ? `; refused before: ${r.errors.join(' | ')}` : ''}`, { attempts });
        countPostcopyRecovery('resumed');
        m.rec.progress = { ...m.rec.progress, escalation: null };
        enterPhase(m, 'post-copy');
        return;
      case 'finished-on-its-own':
        m.rec.decide(Date.now(), 'recovered', `finished on its own: ${r.why}`, { attempts });
        countPostcopyRecovery('finished-on-its-own');
        m.rec.progress = { ...m.rec.progress, escalation: null };
        enterPhase(m, 'post-copy');
        return;
      case 'not-yet':
        notYetSinceMs = r.notYetSinceMs;
        note(`not-yet/${r.reason ?? ''}`, 'recover-not-yet', r.why, r);
        continue;
      case 'escalate': {
        notYetSinceMs = r.notYetSinceMs;
        const key = `escalate/${r.reason ?? ''}`;
        if (key !== lastNoted) escalate(m, r);
        note(key, 'escalate', `post-copy recovery needs an operator (${r.reason}): ${r.why}`, r);
        // Keep observing; an operator's resumeRecovery starts a fresh round of attempts at once.
        if (await condition(() => m.rec.resumeRecoveryRequested, observeMs)) {
          operatorResumes();
          continue;
        }
        // Waiting for an operator may last days: the history is cut, and the new run comes
        // straight back here with the same escalation (runs begun before replay without it).
        if (historyIsLong(flight) && patched('escalation-continue-as-new')) {
          const escalation = m.rec.progress.escalation ?? { reason: r.reason ?? 'unknown', why: r.why, since: new Date(Date.now()).toISOString() };
          m.rec.decide(Date.now(), 'continue-as-new', `escalated for ${Math.round((Date.now() - Date.parse(escalation.since)) / 60_000)} min, history of ${workflowInfo().historyLength} events: the next run waits on`, { attempts });
          await continueFlight(m, flight, () => ({
            attempts, ...(notYetSinceMs !== undefined ? { notYetSinceMs } : {}), escalation, lastNoted,
            resumeRequested: m.rec.resumeRecoveryRequested,
          }));
        }
        continue;
      }
    }
  }
}
