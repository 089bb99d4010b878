/**
 * What a LiveMigration carries from step to step, passed explicitly to each step: the validated
 * request and resolved policy (read-only), the record (phase, progress, decisions, operator input)
 * and the flight (where the migration stands), which continue-as-new hands to the next run.
 */
import { allHandlersFinished, condition, continueAsNew, patched, upsertSearchAttributes } from '@temporalio/workflow';
import type { VmFacts } from '../model/activity-contract';
import type { ConvergencePolicy } from '../model/convergence-policy';
import type { PairStacks } from '../model/data-path';
import type { ForecastStrategy } from '../model/forecast/strategy-forecast';
import { FerryPhase } from '../model/search-attributes';
import type { DiskCopy } from '../model/storage/activity-io';
import type { MigrationRequest, Phase } from '../model/types';
import type { ControllerState, OperatorInput } from './convergence';
import type { MigrationRecord } from './migration-record';

/** Where a running migration stands, carried across continue-as-new (its shape is part of the history). */
export interface MigrationInFlight {
  migrationId: string;
  vm: VmFacts;
  source: string;
  destination: string;
  /**
   * The destination XML, as runs begun before 'dest-xml-out-of-history' carried it (it holds the
   * console password: the current path never sets it). Empty or absent: not prepared, or prepared
   * the current way (destXmlFingerprint).
   */
  destXml?: string;
  /** The prepared XML's fingerprint (sha256): start and recovery rebuild the XML and check it. */
  destXmlFingerprint?: string;
  postcopyEligible: boolean;
  guestMark: Record<string, unknown> | null;
  startedAtMs: number;
  controller: ControllerState;
  percent: number;
  decisions: MigrationRecord['decisions'];
  lastIteration: number | null;
  pausedByUs: boolean;
  /** An operator's abort not yet acted on survives continue-as-new (absent in older runs). */
  abortRequested?: { reason: string } | null;
  /** Operator commands accepted but not yet delivered to the controller (absent in older runs). */
  operatorInput?: OperatorInput;
  /** An escalated post-copy recovery the new run goes straight back to (absent otherwise). */
  recovery?: RecoveryInFlight;
  /** Limits other than the defaults (tests lower them); carried to every later run. */
  limits?: FlightLimits;
  /** Block migration: the disks copied (model/storage/plan.ts); absent or empty in runs without one. */
  diskCopies?: DiskCopy[];
  /** Disks the storage plan proved shared (model/storage/plan.ts, provenShared); absent or empty: none. */
  sharedDisksVouched?: string[];
  /** What `strategy: auto` picked from the forecast (absent: the policy as configured). */
  strategy?: ForecastStrategy;
}

/** A post-copy recovery waiting for an operator (escalated), as continue-as-new hands it on. */
export interface RecoveryInFlight {
  /** Resume attempts spent so far (the bound the recovery activity escalates at). */
  attempts: number;
  /** Since when the current "not yet" has lasted (epoch ms), for the activity's patience. */
  notYetSinceMs?: number;
  /** The escalation the progress shows: the new run shows the same one (same since). */
  escalation: { reason: string; why: string; since: string };
  /** The last state recorded as a decision (each is recorded once). */
  lastNoted: string;
  /** An operator's resumeRecovery accepted and not yet acted on: the new run acts on it first. */
  resumeRequested: boolean;
}

export interface FlightLimits {
  /** While escalated, both hosts are observed at this pace (ms; default 15 s). */
  escalatedObserveMs?: number;
  /** While escalated, the run continues as new once its history holds this many events (or Temporal suggests it). */
  escalatedHistoryEvents?: number;
}

/** The destination has been prepared (either way). */
export function prepared(flight: MigrationInFlight): boolean {
  return Boolean(flight.destXml) || Boolean(flight.destXmlFingerprint);
}

/** What start and recovery receive to get the destination XML: the old run's XML, else the fingerprint. */
export function destXmlRef(flight: MigrationInFlight): { destXml: string } | { destXmlFingerprint: string } {
  if (flight.destXml) return { destXml: flight.destXml };
  return { destXmlFingerprint: flight.destXmlFingerprint ?? '' };
}

/** The migration as the steps see it. */
export interface Migration {
  readonly req: MigrationRequest;
  /** The resolved policy; `strategy: auto` replaces it once with the one its pick follows (steps/choose-strategy.ts). */
  policy: ConvergencePolicy;
  readonly rec: MigrationRecord;
  /** What `strategy: auto` picked (absent: as configured); carried across continue-as-new. */
  strategy?: ForecastStrategy;
  /** The convergence controller's state (the operator handlers read it too). */
  controller: ControllerState;
  /** Post-copy is possible on this path (pre-checks). */
  postcopyEligible: boolean;
  /** A sample showed post-copy (evidence for the outcome's mode). */
  sawPostcopy: boolean;
  /** Both hosts' libvirt and QEMU (pre-checks); the data path is chosen from them. */
  stacks?: PairStacks;
  /** The disks a block migration copies, as the storage plan decided (pre-checks, patch 'storage-plan'). */
  diskCopies?: DiskCopy[];
  /** The disks the storage plan proved shared (pre-checks, patch 'storage-plan'). */
  sharedDisksVouched?: string[];
}

/** Enters a phase: the record (progress query) and the FerryPhase search attribute agree. */
export function enterPhase(m: Migration, phase: Phase): void {
  m.rec.setPhase(phase, Date.now());
  upsertSearchAttributes([{ key: FerryPhase, value: phase }]);
}

/**
 * An escalation made visible where operators look: phase 'escalated' in the progress query and in
 * FerryPhase (visibility), with its reason, why and since. Nothing is destroyed while escalated.
 */
export function showEscalation(m: Migration, reason: string, why: string): void {
  m.rec.setPhase('escalated', Date.now());
  upsertSearchAttributes([{ key: FerryPhase, value: 'escalated' }]);
  m.rec.progress = { ...m.rec.progress, escalation: { reason, why, since: new Date(Date.now()).toISOString() } };
}

/** Post-copy requested, running, or being recovered: the newest memory may be on the destination. */
export function postcopyMayHaveBegun(m: Migration): boolean {
  const c = m.controller.phase;
  return c === 'postcopy' || c === 'postcopy-requested' || m.rec.phase === 'post-copy' || m.rec.phase === 'recovering' || m.rec.phase === 'escalated';
}

/**
 * Cuts the history: the migration goes on in a new run of the same workflow, which receives the
 * flight with what the record holds now (controller, percent, decisions, operator input not yet
 * acted on) and `recovery` when it must go straight back to an escalated recovery. Waits for the
 * update handlers first (Temporal's advice), so an update accepted around the cut is carried.
 */
export async function continueFlight(m: Migration, flight: MigrationInFlight, recovery?: () => RecoveryInFlight): Promise<never> {
  await condition(allHandlersFinished);
  const operatorInput = Object.keys(m.rec.operator).length > 0 ? { operatorInput: m.rec.operator } : {};
  return continueAsNew<(input: unknown, resume?: MigrationInFlight) => Promise<unknown>>(m.req as unknown, {
    ...flight, controller: m.controller, percent: m.rec.progress.percent, decisions: m.rec.decisions, abortRequested: m.rec.abortRequested,
    ...operatorInput, ...(recovery ? { recovery: recovery() } : {}),
  });
}

/**
 * The disks this migration copies (block migration), behind the patch 'block-migration': only a
 * plan made under 'storage-plan' has any, so runs begun before never ask for it.
 */
export function blockMigrationCopies(flight: MigrationInFlight): DiskCopy[] {
  return flight.diskCopies?.length && patched('block-migration') ? flight.diskCopies : [];
}
