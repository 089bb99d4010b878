/**
 * `ferry simulate`'s engine: a recorded lab trace's guest and link (model/sim/trace-fit.ts) migrated
 * again by the dirty-page model under a convergence policy, with ferry's real controller
 * (workflows/convergence, pure) deciding at the same decision points the watch gives the workflow
 * (a new pass, a new mode, or 2 s without either). Pure and deterministic: the same trace and
 * policy give the same outcome.
 *
 * Why not a workflow on the sim worker: the result would be the same decisions (the same
 * controller), but it would need a Temporal server and a sim worker, and the workflow's timers run
 * in real time: a 90 s trace would take 90 s per policy. Here it takes milliseconds, and the CLI
 * talks to nothing at all (no Temporal, no libvirt, no Placement).
 */
import {
  abortMigration, advance, jobStats, pauseGuest, resumeGuest, setBandwidthCap, setMaxDowntime, startPostcopy, startSimMigration,
  type SimMigrationState,
} from '../model/sim/dirty-page-model';
import type { TraceFit } from '../model/sim/trace-fit';
import { decide, initialControllerState, type ConvergencePolicy } from '../workflows/convergence';

const MiB = 1024 * 1024;
/** The watch's longest wait between two decisions (workflows/steps/watch-and-decide.ts). */
const WATCH_MAX_WAIT_MS = 2_000;
const STEP_MS = 100;
/** A migration still running after this long (simulated) is reported as such. */
const LIMIT_MS = 3_600_000;

export interface WhatIfOutcome {
  outcome: 'completed' | 'aborted' | 'still-running';
  mode: 'precopy' | 'postcopy' | 'paused';
  totalMs: number;
  downtimeMs: number | null;
  bytes: number;
  iterations: number;
  postcopyRequests: number;
  decisions: number;
  /** Every action the controller took, with when (simulated ms) and why. */
  actions: Array<{ atMs: number; kind: string; detail: string }>;
}

export function simulateUnderPolicy(fit: TraceFit, policy: ConvergencePolicy, postcopyEligible = true): WhatIfOutcome {
  let s: SimMigrationState = startSimMigration(fit.vm, fit.link, { capBps: null, maxDowntimeMs: policy.downtime.initialMs });
  let ctrl = initialControllerState(policy);
  const actions: WhatIfOutcome['actions'] = [];
  let decisions = 0;
  let lastAt = 0;
  let lastIteration: number | null = null;
  let lastMode = 'setup';
  while (s.elapsedMs < LIMIT_MS) {
    s = advance(s, STEP_MS);
    const j = jobStats(s);
    if (j.job !== 'running') break;
    if (j.iteration === lastIteration && j.mode === lastMode && s.elapsedMs - lastAt < WATCH_MAX_WAIT_MS) continue;
    lastAt = s.elapsedMs;
    lastIteration = j.iteration;
    lastMode = j.mode;
    const d = decide(policy, ctrl, {
      atMs: j.elapsedMs, iteration: j.iteration ?? 0, dataTotal: j.dataTotal, dataRemaining: j.dataRemaining, dataProcessed: j.dataProcessed,
      memoryBps: j.memoryBps ?? 0, dirtyBps: j.dirtyBps ?? 0, mode: j.mode, memoryMiB: Math.round(fit.vm.memoryBytes / MiB), postcopyEligible,
    });
    decisions++;
    ctrl = d.state;
    for (const a of d.actions) {
      actions.push({ atMs: j.elapsedMs, kind: a.kind, detail: 'ms' in a ? `${a.ms} ms` : 'mibps' in a ? `${a.mibps} MiB/s` : '' });
      if (a.kind === 'set-max-downtime') s = setMaxDowntime(s, a.ms);
      else if (a.kind === 'set-bandwidth') s = setBandwidthCap(s, a.mibps * MiB);
      else if (a.kind === 'start-postcopy') s = startPostcopy(s) ?? s;
      else if (a.kind === 'pause') s = pauseGuest(s);
      else s = abortMigration(a.kind === 'resume-and-abort' ? resumeGuest(s) : s) ?? s;
    }
  }
  const j = jobStats(s);
  return {
    outcome: j.job === 'completed' ? 'completed' : j.job === 'cancelled' ? 'aborted' : 'still-running',
    mode: j.mode === 'setup' ? 'precopy' : j.mode,
    totalMs: j.elapsedMs, downtimeMs: j.job === 'completed' ? j.downtimeMs : null, bytes: j.dataProcessed,
    iterations: j.iteration ?? 0, postcopyRequests: j.postcopyRequests, decisions, actions,
  };
}
