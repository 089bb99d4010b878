/**
 * PURE: what to do about a broken post-copy, given what BOTH hosts show now and how the last
 * POSTCOPY_RESUME attempt ended. The recover activity observes, asks `decideRecovery`, acts, and
 * observes again; the workflow acts on the activity's typed result. No I/O, no Temporal, no libvirt.
 *
 * What libvirt 9.0 does (src/qemu/qemu_migration.c, and test/fixtures/postcopy, recorded on the lab):
 * - The destination's Finish step starts the vCPUs only once QEMU there is in post-copy; until
 *   then a failure makes libvirt KILL the incoming guest (its vCPUs never ran: the source still
 *   holds the whole guest). Post-copy has therefore begun only when the destination RUNS in
 *   post-copy (`postcopyBegun`); the source says 'paused (Postcopy)' ~50 ms earlier.
 * - The source marks the domain post-copy-failed while its peer-to-peer thread still owns the job
 *   (it waits in the destination's Finish): a resume then is refused, without side effects, with
 *   "is being actively monitored by another thread". That is "not yet", never a spent attempt.
 * - "not processing incoming migration": the destination has no incoming job any more. Either
 *   QEMU finished on its own (guest running there, 'Migrated'), or the destination guest is gone,
 *   or its daemon lost the job (restart). The observation, not the message, says which.
 * - "not being migrated": the source has no outgoing job: finished on its own (source shut off,
 *   destination running), or a state to escalate.
 */
import { guestClassOf, type GuestClass, type HostView } from './situation';

export type RecoveryNotYet =
  | 'host-unreachable' // a host does not answer: never guess from one host
  | 'in-transition' // a guest between states
  | 'source-busy' // the source's migrate call still owns the job ("actively monitored by another thread")
  | 'source-not-failed-yet' // the destination saw the break, the source's QEMU not yet
  | 'destination-not-failed-yet' // the source saw the break, the destination's QEMU not yet
  | 'resume-in-progress' // a resume (ours, maybe from a worker that died) is running
  | 'destination-job-missing' // the destination holds the guest but says it processes no incoming migration
  | 'source-job-missing' // the source holds the guest but says it is not being migrated
  | 'completing'; // the guest runs on the destination; the source job is ending

export type RecoveryEscalation =
  | 'destination-lost' // no QEMU on the destination: its vCPUs never started, the source holds the guest
  | 'source-lost' // no QEMU on the source during post-copy: pages only it held are gone
  | 'split-brain' // the guest runs on both hosts
  | 'attempts-exhausted' // bounded resume attempts all failed
  | 'stuck' // a "not yet" that lasted beyond patience
  | 'inconsistent'; // a combination no migration produces

/** What the last resume attempt's error means (libvirt's message; the code does not tell these apart). */
export type ResumeRefusal =
  | 'source-busy'
  | 'not-failed-yet'
  | 'resume-in-progress'
  | 'no-incoming-job'
  | 'not-being-migrated'
  | 'other';

export function classifyResumeError(message: string): ResumeRefusal {
  const m = message.toLowerCase();
  if (m.includes('actively monitored by another thread')) return 'source-busy';
  if (m.includes('has not failed') || m.includes('still running')) return 'not-failed-yet';
  if (m.includes('already in progress')) return 'resume-in-progress';
  if (m.includes('not processing incoming migration')) return 'no-incoming-job';
  if (m.includes('not being migrated')) return 'not-being-migrated';
  return 'other';
}

/** Refusals that say "look again later": they consume no attempt. */
export const NOT_AN_ATTEMPT: readonly ResumeRefusal[] = ['source-busy', 'not-failed-yet', 'resume-in-progress', 'no-incoming-job', 'not-being-migrated'];

export interface RecoveryInput {
  source: HostView;
  destination: HostView;
  /** The last resume attempt's libvirt message, if it failed (undefined: none yet, or it succeeded). */
  lastError?: string;
  /** Whether a resume call of this recovery already returned without error. */
  resumeSucceeded?: boolean;
  /** Resume attempts spent so far (refusals in NOT_AN_ATTEMPT are not spent). */
  attempts: number;
  maxAttempts: number;
  /** How long the current "not yet" has lasted, and how long it may last before escalating. */
  notYetForMs: number;
  patienceMs: number;
  /** How long the source may lag behind a destination that saw the break before it is paused. */
  sourceLagMs: number;
}

export type RecoveryStep =
  | { kind: 'resume'; why: string }
  | { kind: 'pause-postcopy-on-source'; why: string }
  | { kind: 'not-yet'; reason: RecoveryNotYet; why: string }
  | { kind: 'resumed'; why: string }
  | { kind: 'finished-on-its-own'; why: string }
  | { kind: 'escalate'; reason: RecoveryEscalation; why: string };

/** Post-copy has begun only once the destination RUNS in post-copy (its vCPUs started by Finish). */
export function postcopyBegun(source: HostView, destination: HostView): boolean {
  const d = guestClassOf(destination);
  const s = guestClassOf(source);
  return (d === 'running-postcopy' || d === 'running-postcopy-failed') && (s === 'paused-postcopy' || s === 'paused-postcopy-failed');
}

const NO_QEMU: readonly GuestClass[] = ['absent', 'defined'];
const SOURCE_FAILED: GuestClass = 'paused-postcopy-failed';
const DEST_FAILED: readonly GuestClass[] = ['running-postcopy-failed', 'paused-postcopy-failed'];

export function decideRecovery(i: RecoveryInput): RecoveryStep {
  const src = guestClassOf(i.source);
  const dst = guestClassOf(i.destination);
  const seen = `source ${src}, destination ${dst}`;
  const refusal = i.lastError === undefined ? undefined : classifyResumeError(i.lastError);
  const notYet = (reason: RecoveryNotYet, why: string): RecoveryStep =>
    i.notYetForMs > i.patienceMs
      ? { kind: 'escalate', reason: 'stuck', why: `${why}; unchanged for over ${Math.round(i.patienceMs / 1000)} s: an operator should look (nothing was destroyed)` }
      : { kind: 'not-yet', reason, why };

  if (src === 'unreachable' || dst === 'unreachable') return notYet('host-unreachable', `${seen}: observe both hosts again before acting`);

  // QEMU finished on its own (or our resume did): the guest runs on the destination, not on the source.
  if (dst === 'running' && (NO_QEMU.includes(src) || src === 'paused-postcopy' || src === 'paused' || src === 'paused-migration')) {
    if (NO_QEMU.includes(src)) {
      return i.resumeSucceeded
        ? { kind: 'resumed', why: `${seen}: the resumed post-copy completed` }
        : { kind: 'finished-on-its-own', why: `${seen}: the guest runs on the destination and the source holds no QEMU: finish, do not resume` };
    }
    return notYet('completing', `${seen}: the guest runs on the destination; the source job is ending`);
  }
  if ((src === 'running' || src.startsWith('running-')) && dst.startsWith('running')) {
    return { kind: 'escalate', reason: 'split-brain', why: `${seen}: the guest runs on both hosts; an operator must choose` };
  }
  if (NO_QEMU.includes(dst) && (src === SOURCE_FAILED || src === 'paused-postcopy')) {
    return { kind: 'escalate', reason: 'destination-lost',
      why: `${seen}: no QEMU on the destination (libvirt kills an incoming guest whose vCPUs never started), so the source holds the whole guest, paused; resuming it there is an operator's decision (nothing was destroyed)` };
  }
  if (NO_QEMU.includes(src)) {
    return { kind: 'escalate', reason: 'source-lost', why: `${seen}: no QEMU on the source during post-copy: pages only the source held are lost` };
  }
  if (src === 'other' || dst === 'other') return notYet('in-transition', `${seen}: a guest between states; observe again`);

  // Post-copy runs on both sides again.
  if (src === 'paused-postcopy' && dst === 'running-postcopy') {
    return i.resumeSucceeded || i.attempts > 0
      ? { kind: 'resumed', why: `${seen}: post-copy runs again` }
      : { kind: 'resumed', why: `${seen}: post-copy is running, nothing to recover` };
  }
  if (src === 'paused-postcopy' && DEST_FAILED.includes(dst)) {
    return i.notYetForMs >= i.sourceLagMs
      ? { kind: 'pause-postcopy-on-source', why: `${seen}: the destination saw the break ${Math.round(i.notYetForMs / 1000)} s ago, the source still sends: pause its post-copy (VIR_DOMAIN_ABORT_JOB_POSTCOPY) so that it can be resumed` }
      : { kind: 'not-yet', reason: 'source-not-failed-yet', why: `${seen}: the source has not seen the break yet` };
  }
  if (src === SOURCE_FAILED && dst === 'running-postcopy') {
    return notYet('destination-not-failed-yet', `${seen}: the destination has not seen the break yet`);
  }
  if (src === SOURCE_FAILED && DEST_FAILED.includes(dst)) {
    // Both sides show post-copy failed: resumable, unless the last refusal says "not yet".
    switch (refusal) {
      case 'source-busy':
        return notYet('source-busy', `${seen}: the source's migrate call still owns the job (${i.lastError}); wait for it to settle`);
      case 'resume-in-progress':
        return notYet('resume-in-progress', `${seen}: a resume is already running (${i.lastError})`);
      case 'not-failed-yet':
        return notYet('destination-not-failed-yet', `${seen}: libvirt does not treat post-copy as failed yet (${i.lastError})`);
      case 'no-incoming-job':
        return notYet('destination-job-missing', `${seen}: the destination holds the guest but processes no incoming migration (${i.lastError}); observe again`);
      case 'not-being-migrated':
        return notYet('source-job-missing', `${seen}: the source holds the guest but has no outgoing job (${i.lastError}); observe again`);
      default:
        break;
    }
    if (i.attempts >= i.maxAttempts) {
      return { kind: 'escalate', reason: 'attempts-exhausted', why: `${seen}: ${i.attempts} resume attempts failed${i.lastError ? ` (last: ${i.lastError})` : ''}; both sides are kept paused/running for an operator` };
    }
    return { kind: 'resume', why: `${seen}: both sides show post-copy failed${i.lastError ? ` (last attempt: ${i.lastError})` : ''}: POSTCOPY_RESUME` };
  }
  if (src === 'paused-postcopy' && (dst === 'paused-migration' || dst === 'paused')) {
    return notYet('completing', `${seen}: the destination has not started the vCPUs yet`);
  }
  return { kind: 'escalate', reason: 'inconsistent', why: `${seen}: not a state of a post-copy; an operator must look` };
}
