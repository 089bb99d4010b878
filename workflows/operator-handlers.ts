/**
 * The operator's interface of a running migration: queries, and updates whose validators refuse
 * with the reason (e.g. abort during post-copy). Accepted commands wait in the record for the
 * next decision point; nothing here calls an activity.
 */
import { setHandler } from '@temporalio/workflow';
import { explainForceComplete, type ControllerState, type ConvergencePolicy } from './convergence';
import {
  abortFromDrainSignal, abortUpdate, decisionsQuery, forceCompleteUpdate, policyQuery, progressQuery, resumeRecoveryUpdate, setBandwidthUpdate,
  setMaxDowntimeUpdate,
} from './definitions';
import type { MigrationRecord } from './migration-record';
import {
  AbortInputSchema, ForceCompleteInputSchema, ResumeRecoveryInputSchema, SetBandwidthInputSchema, SetMaxDowntimeInputSchema, assertValid,
  type AbortInput, type ForceCompleteInput, type Phase, type UpdateResult,
} from '../model/types';

/** Phases in which an abort can no longer roll back. */
export const NO_ABORT_PHASES: Phase[] = ['post-copy', 'switching-over', 'finishing', 'recovering', 'escalated', 'rolling-back', 'done'];

export function registerOperatorHandlers({ rec, policy, controller, postcopyEligible }: {
  rec: MigrationRecord;
  /** The policy in force (`strategy: auto` replaces it once, before the claim). */
  policy: () => ConvergencePolicy;
  controller: () => ControllerState;
  postcopyEligible: () => boolean;
}): void {
  /** Post-copy requested or running: from here the VM only moves forward. */
  const inPostcopy = () => controller().phase === 'postcopy' || controller().phase === 'postcopy-requested';

  setHandler(progressQuery, () => rec.progress);
  setHandler(policyQuery, () => policy());
  setHandler(decisionsQuery, () => rec.decisions);
  /** Why an abort may not be taken now, or null (the abort update's and the drain's signal's rule). */
  const abortRefusal = (): string | null => {
    if (NO_ABORT_PHASES.includes(rec.phase) || inPostcopy()) {
      const where = rec.phase === 'done' ? 'over' : `in ${inPostcopy() ? 'post-copy' : rec.phase}`;
      return `abort refused: the migration is ${where}; after the switch to post-copy the VM can only move forward (ferry finishes or recovers it)`;
    }
    if (rec.abortRequested) return 'abort refused: an abort is already under way';
    return null;
  };
  setHandler(abortUpdate, (raw: AbortInput | undefined): UpdateResult => {
    const a = AbortInputSchema.parse(raw ?? {});
    rec.abortRequested = { reason: a.reason ?? 'operator requested abort' };
    return { accepted: true, message: `aborting: ferry rolls the migration back (${rec.abortRequested.reason})` };
  }, {
    validator: (raw: AbortInput | undefined) => {
      assertValid(AbortInputSchema, raw ?? {}, 'abort input');
      const refusal = abortRefusal();
      if (refusal) throw new Error(refusal);
    },
  });
  // A new handler only (no command, nothing changes until the signal comes): runs begun before
  // replay unchanged, since they never received it. A refusal cannot be answered to a signal: it
  // is recorded where an operator looks (the decisions), and the migration goes on.
  setHandler(abortFromDrainSignal, (raw: AbortInput | undefined) => {
    const parsed = AbortInputSchema.safeParse(raw ?? {});
    const reason = (parsed.success ? parsed.data.reason : undefined) ?? 'the drain was cancelled with abort in flight';
    const refusal = abortRefusal();
    if (refusal) {
      rec.decide(Date.now(), 'abort-from-drain-refused', `${refusal} (${reason})`);
      return;
    }
    rec.abortRequested = { reason };
  });
  setHandler(forceCompleteUpdate, (_raw: ForceCompleteInput | undefined): UpdateResult => {
    rec.operator = { ...rec.operator, forceComplete: true };
    return { accepted: true, message: explainForceComplete(policy(), controller(), postcopyEligible()).reason };
  }, {
    validator: (raw: ForceCompleteInput | undefined) => {
      assertValid(ForceCompleteInputSchema, raw ?? {}, 'force-complete input');
      if (rec.phase === 'done' || rec.abortRequested) throw new Error(`force-complete refused: the migration is ${rec.phase === 'done' ? 'over' : 'being aborted'}`);
      const why = explainForceComplete(policy(), controller(), postcopyEligible());
      if (!why.accepted) throw new Error(`force-complete refused: ${why.reason}`);
    },
  });
  setHandler(setMaxDowntimeUpdate, (raw): UpdateResult => {
    const { ms } = SetMaxDowntimeInputSchema.parse(raw);
    rec.operator = { ...rec.operator, maxDowntimeMs: ms };
    return { accepted: true, message: `max downtime will be ${ms} ms from the next decision point` };
  }, { validator: (raw) => { assertValid(SetMaxDowntimeInputSchema, raw, 'setMaxDowntime input'); refuseAfterSwitch('setMaxDowntime'); } });
  setHandler(setBandwidthUpdate, (raw): UpdateResult => {
    const { mibps } = SetBandwidthInputSchema.parse(raw);
    rec.operator = { ...rec.operator, bandwidthMiBps: mibps };
    return { accepted: true, message: `bandwidth will be ${mibps} MiB/s from the next decision point` };
  }, { validator: (raw) => { assertValid(SetBandwidthInputSchema, raw, 'setBandwidth input'); if (rec.phase === 'done') throw new Error('setBandwidth refused: the migration is over'); } });

  setHandler(resumeRecoveryUpdate, (): UpdateResult => {
    rec.resumeRecoveryRequested = true;
    return { accepted: true, message: 'resuming the post-copy recovery: ferry observes both hosts and tries again' };
  }, {
    validator: (raw) => {
      assertValid(ResumeRecoveryInputSchema, raw ?? {}, 'resumeRecovery input');
      if (rec.phase !== 'escalated') throw new Error(`resumeRecovery refused: the migration is ${rec.phase}, not waiting for an operator`);
    },
  });

  function refuseAfterSwitch(what: string): void {
    if (rec.phase === 'done' || inPostcopy()) {
      throw new Error(`${what} refused: the migration is ${rec.phase === 'done' ? 'over' : 'in post-copy'}`);
    }
  }
}
