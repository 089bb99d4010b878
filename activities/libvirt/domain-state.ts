/** virDomainState and the per-state reason enums (libvirt-domain.h), with readable names. */

export const DomainState = {
  NoState: 0,
  Running: 1,
  Blocked: 2,
  Paused: 3,
  Shutdown: 4,
  Shutoff: 5,
  Crashed: 6,
  PmSuspended: 7,
} as const;
export type DomainState = (typeof DomainState)[keyof typeof DomainState];

export const RunningReason = {
  Unknown: 0,
  Booted: 1,
  Migrated: 2,
  Restored: 3,
  FromSnapshot: 4,
  Unpaused: 5,
  MigrationCanceled: 6,
  SaveCanceled: 7,
  Wakeup: 8,
  Crashed: 9,
  Postcopy: 10,
  PostcopyFailed: 11,
} as const;

export const PausedReason = {
  Unknown: 0,
  User: 1,
  Migration: 2,
  Save: 3,
  Dump: 4,
  IoError: 5,
  Watchdog: 6,
  FromSnapshot: 7,
  ShuttingDown: 8,
  Snapshot: 9,
  Crashed: 10,
  StartingUp: 11,
  Postcopy: 12,
  PostcopyFailed: 13,
  ApiError: 14,
} as const;

export const ShutdownReason = {
  Unknown: 0,
  User: 1,
} as const;

export const ShutoffReason = {
  Unknown: 0,
  Shutdown: 1,
  Destroyed: 2,
  Crashed: 3,
  Migrated: 4,
  Saved: 5,
  Failed: 6,
  FromSnapshot: 7,
  Daemon: 8,
} as const;

export const CrashedReason = {
  Unknown: 0,
  Panicked: 1,
} as const;

export type DomainStateName = 'nostate' | 'running' | 'blocked' | 'paused' | 'shutdown' | 'shutoff' | 'crashed' | 'pmsuspended';

const stateNames: Record<number, DomainStateName> = {
  0: 'nostate',
  1: 'running',
  2: 'blocked',
  3: 'paused',
  4: 'shutdown',
  5: 'shutoff',
  6: 'crashed',
  7: 'pmsuspended',
};

const reasonTables: Record<number, Record<string, number>> = {
  [DomainState.Running]: RunningReason,
  [DomainState.Paused]: PausedReason,
  [DomainState.Shutdown]: ShutdownReason,
  [DomainState.Shutoff]: ShutoffReason,
  [DomainState.Crashed]: CrashedReason,
};

export interface DomainStateInfo {
  state: number;
  stateName: DomainStateName | `unknown(${number})`;
  reason: number;
  /** e.g. "Postcopy", "PostcopyFailed", "Migration", "User", "Booted". */
  reasonName: string;
}

export function describeDomainState(state: number, reason: number): DomainStateInfo {
  const table = reasonTables[state];
  let reasonName = `unknown(${reason})`;
  if (table) for (const [k, v] of Object.entries(table)) if (v === reason) reasonName = k;
  if (!table && reason === 0) reasonName = 'Unknown';
  return { state, stateName: stateNames[state] ?? `unknown(${state})`, reason, reasonName };
}
