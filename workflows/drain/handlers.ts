/**
 * The drain's interface while it runs: progress and plan queries, and the cancel update whose
 * validator says why it refuses (the drain is over; cancelled already with the same choice).
 */
import { setHandler } from '@temporalio/workflow';
import { drainCounts, drainEtaMs, vmReports } from '../../model/drain/progress';
import { CancelDrainInputSchema, type DrainProgress } from '../../model/drain/schemas';
import { assertValid, type UpdateResult } from '../../model/types';
import { cancelDrainUpdate, drainPlanQuery, drainProgressQuery } from '../definitions';
import type { DrainRun } from './run';

export function drainProgress(run: DrainRun): DrainProgress {
  return {
    host: run.req.host,
    phase: run.phase,
    counts: drainCounts(run.moves),
    etaMs: drainEtaMs(run.moves, Date.now(), run.req.limits.maxParallel),
    cancelRequested: run.cancel !== null,
    vms: vmReports(run.moves),
  };
}

export function registerDrainHandlers(run: DrainRun): void {
  setHandler(drainProgressQuery, () => drainProgress(run));
  setHandler(drainPlanQuery, () => run.plan);
  setHandler(cancelDrainUpdate, (raw): UpdateResult => {
    const input = CancelDrainInputSchema.parse(raw ?? {});
    const reason = input.reason ?? 'operator cancelled the drain';
    // A second cancel may add abortInFlight; it never takes it back.
    const abortInFlight = input.abortInFlight || (run.cancel?.abortInFlight ?? false);
    run.cancel = { reason: run.cancel?.reason ?? reason, abortInFlight, applied: run.cancel?.applied ?? false, abortsSent: run.cancel?.abortsSent ?? false };
    if (input.abortInFlight) run.cancel.abortsSent = false;
    return {
      accepted: true,
      message: `cancelling the drain of ${run.req.host}: no new move starts; ` +
        (abortInFlight ? 'moves in flight are asked to abort (those past the switch to post-copy finish)' : 'moves in flight finish'),
    };
  }, {
    validator: (raw) => {
      assertValid(CancelDrainInputSchema, raw ?? {}, 'cancelDrain input');
      if (run.phase === 'done' || run.phase === 'releasing') throw new Error(`cancel refused: the drain of ${run.req.host} is over`);
      const wantsAbort = CancelDrainInputSchema.parse(raw ?? {}).abortInFlight;
      if (run.cancel && (run.cancel.abortInFlight || !wantsAbort)) {
        throw new Error(`cancel refused: the drain of ${run.req.host} is already being cancelled${run.cancel.abortInFlight ? ' (aborting moves in flight)' : ''}`);
      }
    },
  });
}
