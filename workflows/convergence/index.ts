/**
 * PURE: ferry's convergence controller (design.md, "Convergence policy" and step 5 "Watch and
 * decide"). Safe to import from workflow code: no I/O, no clock, no Temporal or libvirt imports.
 */
export {
  ConvergencePolicySchema,
  DEFAULT_CONVERGENCE_POLICY,
  completionBudgetMs,
  forceCompleteMeans,
  type ConvergencePolicy,
  type ConvergencePolicyInput,
  type ForceCompleteMeans,
} from '../../model/convergence-policy';
export { decide, explainForceComplete, initialControllerState, jobStarted, postcopyUsable } from './controller';
export { BANDWIDTH_EWMA_ALPHA, ewmaBandwidth, impliedDowntimeMs } from './estimates';
export { initialStallState, recordIteration, type StallConfig, type StallDetectorState, type StallRecord, type StallVerdict } from './stall-detector';
export {
  initialDowntimeState, nextRampValueMs, operatorSetsDowntime, rampCanRise, rampValueMs, startRamp, stepRamp,
  type DowntimeRampConfig, type DowntimeState, type RampMove,
} from './downtime-ramp';
export type {
  Action, ControllerPhase, ControllerState, ConvergenceSample, Decision, JobMode, OperatorInput, Verdict,
} from './types';
