/**
 * PURE: which destructive act is safe in which situation (design.md, "The guard"). Every act that
 * can destroy state — abort the job, resume a paused source, destroy or undefine a domain, revert
 * or drop allocations — is performed only after both hosts were observed and the situation table
 * said where the guest is; this table then says whether the act is safe there. Anything not
 * listed is refused: observe again, or escalate. Never guess.
 */
import type { DestinationClass, GuestClass, Situation, SituationVerdict } from './situation';

export const DESTRUCTIVE_ACTS = [
  /** virDomainAbortJob on the source: only while pre-copy runs (never once post-copy may have begun). */
  'abort-job',
  /** Resume the source guest: only when the migration is over and no other copy ran. */
  'resume-source',
  /** Destroy or undefine the destination's domain: only a leftover that never ran, with the guest on the source. */
  'clean-destination',
  /** Move the allocations back to the source: only with the guest on the source. */
  'revert-allocation',
  /** Undefine the source's inactive definition: only once the guest runs on the destination alone. */
  'clean-source',
  /** Drop the migration consumer's (source) allocation: only once the guest runs on the destination. */
  'drop-migration-allocation',
  /**
   * virDomainAbortJobFlags(POSTCOPY) on a source that still sends after the destination saw the
   * post-copy break: it pauses the source's side into 'paused (post-copy failed)', the state from
   * which POSTCOPY_RESUME can continue. It destroys no memory, but it does stop a post-copy: only
   * when the post-copy is already broken on the destination's side.
   */
  'abort-postcopy',
] as const;
export type DestructiveAct = (typeof DESTRUCTIVE_ACTS)[number];

/** The situations in which each act is safe; every other situation refuses it. */
export const SAFE_IN: Readonly<Record<DestructiveAct, readonly Situation[]>> = {
  'abort-job': ['precopy-in-progress'],
  'resume-source': ['not-started-or-rolled-back'],
  'clean-destination': ['not-started-or-rolled-back'],
  'revert-allocation': ['not-started-or-rolled-back'],
  'clean-source': ['done', 'switched-over-source-not-cleaned'],
  'drop-migration-allocation': ['done', 'switched-over-source-not-cleaned'],
  // The one act allowed once post-copy began: it keeps both QEMUs and makes the break resumable.
  'abort-postcopy': ['postcopy-broken'],
};

/**
 * What some acts need beyond the situation: the guest class each host must show. The situation
 * says where the guest is; a few acts depend on a finer fact than that.
 * - clean-source: not while the destination guest is 'paused (Migration)' (or StartingUp). libvirt's
 *   Finish has not completed there and kills that guest if it fails; the source definition may
 *   then be the only one left. A guest Finish completed but kept paused shows 'paused (User)'
 *   (libvirt 9.0, qemuMigrationDstComplete): that one is the guest, so it may be cleaned.
 * - abort-postcopy: only a source that still sends ('paused (Postcopy)': there is a post-copy job
 *   to pause), toward a destination that shows the break ('post-copy failed'). A healthy post-copy
 *   is never interrupted.
 */
export const ONLY_WITH: Readonly<Partial<Record<DestructiveAct, { source?: readonly GuestClass[]; destination?: readonly DestinationClass[] }>>> = {
  'clean-source': { destination: ['running', 'running-postcopy', 'paused'] },
  'abort-postcopy': { source: ['paused-postcopy'], destination: ['running-postcopy-failed', 'paused-postcopy-failed'] },
};

export type GuardVerdict =
  | { allowed: true; situation: Situation; explanation: string }
  | { allowed: false; situation: Situation; next: SituationVerdict['next']; why: string };

/** May `act` be performed where the hosts say the guest is? */
export function judgeAct(act: DestructiveAct, where: Pick<SituationVerdict, 'situation' | 'next' | 'explanation' | 'classes'>): GuardVerdict {
  const refused = (because: string): GuardVerdict => ({
    allowed: false,
    situation: where.situation,
    next: where.next,
    why: `${act} refused in situation ${where.situation} (${where.explanation}); ${because}`,
  });
  if (!SAFE_IN[act].includes(where.situation)) return refused(`safe only in ${SAFE_IN[act].join(', ')}`);
  const needs = ONLY_WITH[act];
  if (needs?.source && !needs.source.includes(where.classes.source)) {
    return refused(`the source guest is ${where.classes.source}; safe only with ${needs.source.join(', ')}`);
  }
  if (needs?.destination && !needs.destination.includes(where.classes.destination)) {
    return refused(`the destination guest is ${where.classes.destination}; safe only with ${needs.destination.join(', ')}`);
  }
  return { allowed: true, situation: where.situation, explanation: where.explanation };
}
