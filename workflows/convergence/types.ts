import type { DowntimeState } from './downtime-ramp';
import type { StallDetectorState } from './stall-detector';

/**
 * PURE: what the convergence controller reads, returns and carries. Plain JSON values only: the
 * state crosses Temporal's continue-as-new and the decisions go into the migration's record.
 */

export type JobMode = 'setup' | 'precopy' | 'postcopy' | 'paused';

/** Commands an operator sent since the previous sample (each delivered once). */
export interface OperatorInput {
  /** Finish now: post-copy if allowed and eligible, else pause the guest if allowed, else refused. */
  forceComplete?: boolean;
  /** Max downtime chosen by the operator (ms); the ramp never lowers it. */
  maxDowntimeMs?: number;
  /** Migration bandwidth chosen by the operator (MiB/s). */
  bandwidthMiBps?: number;
  /**
   * Abort and roll back: an input to the decision of the round in which it arrives, never a
   * separate path, so it can never follow a switch to post-copy taken in the same round.
   */
  abort?: { reason: string };
}

export interface ConvergenceSample {
  /** ms since the migration started, from the workflow clock. */
  atMs: number;
  /**
   * libvirt's memory_iteration as reported. It need not start at 1 (oVirt found it can count the
   * iterations of earlier cancelled migrations): the controller normalises it by the first value
   * seen once the job has started.
   */
  iteration: number;
  dataTotal: number;
  dataRemaining: number;
  dataProcessed: number;
  /** Transfer rate and guest dirty rate, bytes/s (0 or less when unknown). */
  memoryBps: number;
  dirtyBps: number;
  /** What the job is doing: setting up, pre-copy, post-copy, or pre-copy with the guest paused. */
  mode: JobMode;
  /** Guest memory, for the completion budget. */
  memoryMiB: number;
  /** Block migration: the copied disks' size (MiB), which the completion budget counts with the memory (absent: none). */
  diskCopyMiB?: number;
  /** From the pre-checks: no VFIO, no vPMEM, destination supports post-copy. */
  postcopyEligible: boolean;
  operator?: OperatorInput;
}

export type Action =
  | { kind: 'set-max-downtime'; ms: number }
  | { kind: 'start-postcopy' }
  | { kind: 'pause' }
  | { kind: 'abort' }
  /**
   * Abort the job AND make sure the guest runs again on the source: the controller paused it to
   * converge, and a migration aborted while the guest is paused leaves it paused. The caller
   * aborts (virDomainAbortJob), then resumes the source domain if it is still paused.
   */
  | { kind: 'resume-and-abort' }
  | { kind: 'set-bandwidth'; mibps: number };

export type Verdict = 'starting' | 'converging' | 'stalled' | 'switching' | 'postcopy' | 'paused' | 'over-budget';

/**
 * Where the controller stands. 'postcopy-requested' and 'pause-requested' wait for the caller to
 * report the new mode (a successful StartPostCopy call does not prove the switch: field notes).
 */
export type ControllerPhase =
  | 'starting'
  | 'precopy'
  | 'postcopy-requested'
  | 'postcopy'
  | 'pause-requested'
  | 'paused'
  | 'aborting';

export interface ControllerState {
  version: 1;
  phase: ControllerPhase;
  /** First sample where QEMU's migration had started (ms), and the raw iteration seen then. */
  startedAtMs: number | null;
  iterationBase: number | null;
  /** Normalised iteration of the last sample (0 before the job started). */
  iteration: number;
  /** Bandwidth EWMA (bytes/s), alpha 0.4. */
  ewmaBps: number | null;
  downtime: DowntimeState;
  stall: StallDetectorState;
  /** Who paused the guest: the controller (resume it on abort) or someone else (leave it). */
  pausedBy: 'controller' | 'other' | null;
  /** When the completion budget ran out (ms), once. */
  budgetExceededAtMs: number | null;
  /** Bandwidth the operator set (MiB/s). */
  bandwidthMiBps: number | null;
  /** Operator commands received before the job started, applied once it has. */
  pending: { forceComplete: boolean; maxDowntimeMs: number | null; bandwidthMiBps: number | null };
  /** Samples decided so far (for the audit trail). */
  samples: number;
}

export interface Decision {
  actions: Action[];
  /** One short sentence (or a few, joined by '; ') with the numbers that led to the decision. */
  reason: string;
  state: ControllerState;
  verdict: Verdict;
  /** Figures for the progress display. */
  observed: {
    iteration: number;
    remainingBytes: number;
    bandwidthBps: number | null;
    impliedDowntimeMs: number | null;
    maxDowntimeMs: number | null;
    budgetMs: number;
  };
}
