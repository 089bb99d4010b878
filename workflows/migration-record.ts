/**
 * The migration's record while it runs: phase, progress (never backwards), decisions with their
 * inputs, operator requests waiting for the next decision point. Deterministic: the workflow
 * passes the clock in.
 */
import type { MigrationSample } from '../model/activity-contract';
import type { OperatorInput } from './convergence';
import { withPlannedTotal } from '../model/storage/disk-progress';
import { progressView } from '../model/progress';
import type { Decision, Phase, Progress } from '../model/types';

export class MigrationRecord {
  phase: Phase = 'validating';
  readonly decisions: Decision[] = [];
  private current!: Progress;
  /** Operator commands accepted since the last decision point. */
  operator: OperatorInput = {};
  abortRequested: { reason: string } | null = null;
  /** An operator asked an escalated recovery to try again (resumeRecovery update). */
  resumeRecoveryRequested = false;
  private abortDelivered = false;

  /**
   * `onProgress`: told each new progress (the workflow shows it as its current details in the
   * Temporal UI: metadata, not a command, so it changes no history).
   */
  constructor(
    readonly startedAtMs: number,
    source: string,
    private readonly onProgress?: (progress: Progress) => void,
  ) {
    const at = new Date(startedAtMs).toISOString();
    this.progress = {
      phase: 'validating', percent: 0, etaMs: null, iteration: null, dataTotal: 0, dataRemaining: 0,
      bandwidthBps: null, dirtyBps: null, expectedDowntimeMs: null, verdict: null, mode: null,
      source, destination: null, startedAt: at, updatedAt: at,
    };
  }

  get progress(): Progress {
    return this.current;
  }

  set progress(next: Progress) {
    this.current = next;
    this.onProgress?.(next);
  }

  setPhase(phase: Phase, nowMs: number): void {
    this.phase = phase;
    this.progress = { ...this.progress, phase, updatedAt: new Date(nowMs).toISOString() };
  }

  decide(nowMs: number, action: string, reason: string, inputs: Decision['inputs'] = {}): void {
    this.decisions.push({ atMs: Math.max(0, nowMs - this.startedAtMs), action, reason, inputs });
  }

  /** `plannedTotalBytes`: a block migration's RAM + copied disks, the floor of the total (model/storage/disk-progress.ts). */
  observe(sample: MigrationSample, verdict: string | null, nowMs: number, plannedTotalBytes?: number): void {
    const figures = plannedTotalBytes === undefined
      ? { totalBytes: sample.dataTotal, remainingBytes: sample.dataRemaining }
      : withPlannedTotal(sample, plannedTotalBytes);
    const view = progressView(this.progress.percent, {
      ...figures,
      bandwidthBps: sample.memoryBps,
      dirtyBps: sample.dirtyBps,
      iteration: sample.iteration,
    });
    const mode = sample.mode === 'setup' ? null : sample.mode;
    this.progress = {
      ...this.progress,
      percent: view.percent,
      etaMs: view.etaMs,
      iteration: sample.iteration,
      dataTotal: sample.dataTotal,
      dataRemaining: sample.dataRemaining,
      bandwidthBps: sample.memoryBps,
      dirtyBps: sample.dirtyBps,
      expectedDowntimeMs: sample.expectedDowntimeMs ?? view.expectedDowntimeMs,
      ...(sample.disk ? { disk: sample.disk } : {}),
      verdict,
      mode,
      updatedAt: new Date(nowMs).toISOString(),
    };
  }

  done(nowMs: number): void {
    this.progress = { ...this.progress, percent: 100, etaMs: 0, phase: 'done', updatedAt: new Date(nowMs).toISOString() };
    this.phase = 'done';
  }

  /** The operator's abort for the controller's decision, delivered once (it stays requested for the validators). */
  takeAbort(): { reason: string } | null {
    if (!this.abortRequested || this.abortDelivered) return null;
    this.abortDelivered = true;
    return this.abortRequested;
  }

  /** Operator commands for the controller, delivered once. */
  takeOperatorInput(): OperatorInput {
    const op = this.operator;
    this.operator = {};
    return op;
  }
}
