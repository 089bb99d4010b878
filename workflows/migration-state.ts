/**
 * What a LiveMigration carries from step to step, passed explicitly to each step: the validated
 * request and resolved policy (read-only), the record (phase, progress, decisions, operator input)
 * and the flight (where the migration stands), which continue-as-new hands to the next run.
 */
import { upsertSearchAttributes } from '@temporalio/workflow';
import type { VmFacts } from '../model/activity-contract';
import type { ConvergencePolicy } from '../model/convergence-policy';
import { FerryPhase } from '../model/search-attributes';
import type { MigrationRequest, Phase } from '../model/types';
import type { ControllerState } from './convergence';
import type { MigrationRecord } from './migration-record';

/** Where a running migration stands, carried across continue-as-new (its shape is part of the history). */
export interface MigrationInFlight {
  migrationId: string;
  vm: VmFacts;
  source: string;
  destination: string;
  destXml: string;
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
}

/** The migration as the steps see it. */
export interface Migration {
  readonly req: MigrationRequest;
  readonly policy: ConvergencePolicy;
  readonly rec: MigrationRecord;
  /** The convergence controller's state (the operator handlers read it too). */
  controller: ControllerState;
  /** Post-copy is possible on this path (pre-checks). */
  postcopyEligible: boolean;
  /** A sample showed post-copy (evidence for the outcome's mode). */
  sawPostcopy: boolean;
}

/** Enters a phase: the record (progress query) and the FerryPhase search attribute agree. */
export function enterPhase(m: Migration, phase: Phase): void {
  m.rec.setPhase(phase, Date.now());
  upsertSearchAttributes([{ key: FerryPhase, value: phase }]);
}

/** Post-copy requested, running, or being recovered: the newest memory may be on the destination. */
export function postcopyMayHaveBegun(m: Migration): boolean {
  const c = m.controller.phase;
  return c === 'postcopy' || c === 'postcopy-requested' || m.rec.phase === 'post-copy' || m.rec.phase === 'recovering';
}
