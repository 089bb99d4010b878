/**
 * Names defined once and shared by the workflow (setHandler), the worker (task queue), the client
 * and the CLI (executeUpdate/query), so a rename cannot leave one side behind. The Temporal CLI
 * and Web UI use the same strings: `temporal workflow update execute --name setMaxDowntime`.
 *
 * Workflow-safe: only `@temporalio/workflow` definitions and types.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { CancelDrainInput, DrainPlan, DrainProgress, DrainReport, DrainRequestInput } from '../model/drain/schemas';
import type { ConvergencePolicy } from './convergence';
import type { LocateVmInput, LocateVmResult } from '../model/activity-contract';
import type { ForecastRequestInput, ForecastResult } from '../model/forecast/schemas';
import type {
  AbortInput,
  Decision,
  ForceCompleteInput,
  ResumeRecoveryInput,
  MigrationRequestInput,
  Outcome,
  Progress,
  SetBandwidthInput,
  SetMaxDowntimeInput,
  UpdateResult,
} from '../model/types';

export const TASK_QUEUE = 'ferry';
export const LIVE_MIGRATION_WORKFLOW_TYPE = 'liveMigration';
/** Where a VM runs, asked of a worker: the operator's side never talks to libvirt (locate-vm.ts). */
export const LOCATE_VM_WORKFLOW_TYPE = 'locateVm';
/** A host's drain (drain-host.ts): workflow id drain-<host> (model/drain/schemas.ts drainWorkflowId). */
export const DRAIN_HOST_WORKFLOW_TYPE = 'drainHost';
/** Clears a host's maintenance mark (`ferry host release`): the operator's side never talks to Placement. */
export const RELEASE_HOST_WORKFLOW_TYPE = 'releaseHost';
/** A migration's forecast before it starts (`ferry forecast`, forecast-migration.ts). */
export const FORECAST_MIGRATION_WORKFLOW_TYPE = 'forecastMigration';

/**
 * The workflows' signatures as their callers see them, so that clients name a workflow's type
 * without importing its implementation (test/unit/cli/definitions.test.ts checks that the real ones fit).
 * The LiveMigration workflow's second parameter is its own continue-as-new state: callers never pass it.
 */
export type LiveMigrationWorkflow = (request: MigrationRequestInput) => Promise<Outcome>;
export type LocateVmWorkflow = (input: LocateVmInput) => Promise<LocateVmResult>;
export type DrainHostWorkflow = (request: DrainRequestInput) => Promise<DrainReport>;
export type ForecastMigrationWorkflow = (input: ForecastRequestInput) => Promise<ForecastResult>;
export type ReleaseHostWorkflow = (input: { host: string }) => Promise<{ host: string; inMaintenance: boolean; changed: boolean }>;

// Updates: validators refuse with an error that says why (e.g. "abort refused: post-copy has
// started, the VM can only move forward"); an accepted update answers { accepted: true, message }.

/** Abort: roll back before the switch-over; refused after it (post-copy is recovered instead). */
// The input is declared required for typed clients; the Temporal CLI may send none, which the
// validators read as {}.
export const abortUpdate = defineUpdate<UpdateResult, [AbortInput]>('abort');
/** Force completion: switch to post-copy when allowed, else pause the guest until it converges. */
export const forceCompleteUpdate = defineUpdate<UpdateResult, [ForceCompleteInput]>('forceComplete');
/** After an escalated post-copy recovery: the operator fixed what blocked it; ferry observes and tries again. */
export const resumeRecoveryUpdate = defineUpdate<UpdateResult, [ResumeRecoveryInput]>('resumeRecovery');
export const setMaxDowntimeUpdate = defineUpdate<UpdateResult, [SetMaxDowntimeInput]>('setMaxDowntime');
export const setBandwidthUpdate = defineUpdate<UpdateResult, [SetBandwidthInput]>('setBandwidth');

/** Progress as the CLI's bar shows it: phase, percent (never decreasing), ETA, rates, downtime. */
export const progressQuery = defineQuery<Progress>('progress');
/** The resolved policy (defaults <- overrides) this migration runs with. */
export const policyQuery = defineQuery<ConvergencePolicy>('policy');
/** Every decision so far, with the numbers that led to it. */
export const decisionsQuery = defineQuery<Decision[]>('decisions');

/**
 * A drain's cancel asking one of its migrations to abort: the abort update's rules (refused from
 * post-copy on), as a signal because a workflow cannot send another one an update. A refusal is
 * recorded in the migration's decisions; the migration then finishes as it would have.
 */
export const abortFromDrainSignal = defineSignal<[AbortInput]>('abortFromDrain');

// The drain's interface (drain-host.ts).
/** Cancel: no new move starts; in-flight ones finish, or abort where still safe with abortInFlight. */
export const cancelDrainUpdate = defineUpdate<UpdateResult, [CancelDrainInput]>('cancelDrain');
/** Moved / in flight / waiting / failed / cannot move, ETA, and every VM's state. */
export const drainProgressQuery = defineQuery<DrainProgress>('drainProgress');
/** The plan the drain recorded as its first decision. */
export const drainPlanQuery = defineQuery<DrainPlan | null>('drainPlan');

/** Every update and query name, for listings (`ferry status --help`) and tests. */
export const UPDATE_NAMES = [abortUpdate.name, forceCompleteUpdate.name, setMaxDowntimeUpdate.name, setBandwidthUpdate.name, resumeRecoveryUpdate.name] as const;
export const QUERY_NAMES = [progressQuery.name, policyQuery.name, decisionsQuery.name] as const;
