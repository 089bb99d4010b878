import type { HostView } from './situation';

/**
 * What the LiveMigration workflow sends to and gets from its activities. Types only: the workflow
 * imports these (never the activities' implementation), the activities implement them.
 */

export interface VmFacts {
  name: string;
  uuid: string;
  memoryMiB: number;
  vcpus: number;
}

export interface CheckResult {
  check: string;
  ok: boolean;
  detail: string;
}

export interface SourceCheckInput {
  vm: string;
  source?: string;
}
export interface SourceCheckResult {
  vm: VmFacts;
  source: string;
  state: 'running' | 'paused';
  postcopyBlockers: string[];
  checks: CheckResult[];
}

export interface ChooseDestinationInput {
  vm: VmFacts;
  source: string;
  /** A host the operator named; 'check' verifies it has room, 'force' skips the candidate query. */
  requested?: { host: string; mode: 'force' | 'check' };
}
export interface ChooseDestinationResult {
  destination: string;
  how: 'forced' | 'checked' | 'placement';
  detail: string;
}

export interface DestinationCheckInput {
  vm: VmFacts;
  source: string;
  destination: string;
}
export interface DestinationCheckResult {
  checks: CheckResult[];
  /** Post-copy is possible on this path (QEMU/libvirt support on both ends). */
  postcopySupported: boolean;
}

export interface ClaimInput {
  migrationId: string;
  vm: VmFacts;
  source: string;
  destination: string;
}
export interface ClaimResult {
  outcome: 'claimed' | 'already-claimed';
  detail: string;
}

export interface PrepareInput {
  vm: VmFacts;
  source: string;
  destination: string;
}
export interface PrepareResult {
  destXml: string;
  changes: string[];
}

export interface StartInput {
  migrationId: string;
  vm: VmFacts;
  source: string;
  destination: string;
  destXml: string;
  postcopy: boolean;
  bandwidthMiBps: number | null;
  initialMaxDowntimeMs: number | null;
}
export interface StartResult {
  outcome: 'started' | 'already-running' | 'already-done';
}

/** What one host shows of the VM (the situation table's input), with the error when unreachable. */
export type HostDomainView = HostView & { error?: string };

export interface WatchInput {
  vm: VmFacts;
  source: string;
  destination: string;
  /** Return at the latest after this long (a decision point for timers). */
  maxWaitMs: number;
  /** The last iteration the workflow has seen: a new one is a decision point. */
  lastIteration: number | null;
  /** The mode the workflow believes: a change is a decision point. */
  lastMode: 'setup' | 'precopy' | 'postcopy' | 'paused';
}

export interface MigrationSample {
  /** 'running': the job runs; 'ended': no job any more (read the hosts to know how it ended). */
  job: 'running' | 'ended';
  mode: 'setup' | 'precopy' | 'postcopy' | 'paused';
  elapsedMs: number;
  iteration: number | null;
  dataTotal: number;
  dataRemaining: number;
  dataProcessed: number;
  memoryBps: number | null;
  dirtyBps: number | null;
  expectedDowntimeMs: number | null;
  postcopyFailed: boolean;
  source: HostDomainView;
  destination: HostDomainView;
}

export type MigrationAction =
  | { kind: 'set-max-downtime'; ms: number }
  | { kind: 'set-bandwidth'; mibps: number }
  | { kind: 'start-postcopy' }
  | { kind: 'pause' }
  | { kind: 'abort' }
  | { kind: 'resume-and-abort' };

export interface ApplyActionInput {
  vm: VmFacts;
  source: string;
  action: MigrationAction;
}

export interface FinishInput {
  migrationId: string;
  vm: VmFacts;
  source: string;
  destination: string;
}
export interface FinalStats {
  downtimeMs: number | null;
  totalMs: number | null;
  bytes: number | null;
  iterations: number | null;
  postcopyRequests: number | null;
}
export interface FinishResult {
  stats: FinalStats;
  hosts: { source: string; destination: string };
}

export interface RollbackInput {
  migrationId: string;
  vm: VmFacts;
  source: string;
  destination: string | null;
  /** The workflow paused the guest (pause fallback): resume it on the source. */
  resumeIfPaused: boolean;
}
export interface RollbackResult {
  hosts: { source: string; destination: string };
  steps: string[];
}

export interface RecoverInput {
  vm: VmFacts;
  source: string;
  destination: string;
  destXml: string;
}

/** A mark in a lab guest's heartbeat log (opaque to the workflow); null outside the lab. */
export type GuestMeterMark = Record<string, unknown> | null;
