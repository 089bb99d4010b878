/**
 * PURE: which destructive act is safe in which situation (design.md, "The guard"). Every act that
 * can destroy state — abort the job, resume a paused source, destroy or undefine a domain, revert
 * or drop allocations — is performed only after both hosts were observed and the situation table
 * said where the guest is; this table then says whether the act is safe there. Anything not
 * listed is refused: observe again, or escalate. Never guess.
 */
import type { Situation, SituationVerdict } from './situation';

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
};

export type GuardVerdict =
  | { allowed: true; situation: Situation; explanation: string }
  | { allowed: false; situation: Situation; next: SituationVerdict['next']; why: string };

/** May `act` be performed where the hosts say the guest is? */
export function judgeAct(act: DestructiveAct, where: Pick<SituationVerdict, 'situation' | 'next' | 'explanation'>): GuardVerdict {
  if (SAFE_IN[act].includes(where.situation)) return { allowed: true, situation: where.situation, explanation: where.explanation };
  return {
    allowed: false,
    situation: where.situation,
    next: where.next,
    why: `${act} refused in situation ${where.situation} (${where.explanation}); safe only in ${SAFE_IN[act].join(', ')}`,
  };
}
