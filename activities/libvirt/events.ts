/**
 * Domain events: IDs to register (virDomainEventID), the MESSAGE procedure each arrives as, and
 * typed decoders for the ones migration cares about.
 */
import { JobType, nameOf } from './constants';
import { parseJobStats, type JobStats } from './job-stats';
import { Limits, Procedure } from './protocol';
import { readDomain, type DomainRef } from './remote-types';
import { readTypedParams } from './typed-params';
import { XdrReader } from './xdr';

/** virDomainEventID. */
export const DomainEventId = {
  Lifecycle: 0,
  Reboot: 1,
  RtcChange: 2,
  Watchdog: 3,
  IoError: 4,
  Graphics: 5,
  IoErrorReason: 6,
  ControlError: 7,
  BlockJob: 8,
  DiskChange: 9,
  TrayChange: 10,
  PmWakeup: 11,
  PmSuspend: 12,
  BalloonChange: 13,
  PmSuspendDisk: 14,
  DeviceRemoved: 15,
  BlockJob2: 16,
  Tunable: 17,
  AgentLifecycle: 18,
  DeviceAdded: 19,
  MigrationIteration: 20,
  JobCompleted: 21,
  DeviceRemovalFailed: 22,
  MetadataChange: 23,
  BlockThreshold: 24,
  MemoryFailure: 25,
  MemoryDeviceSizeChange: 26,
} as const;
export type DomainEventId = (typeof DomainEventId)[keyof typeof DomainEventId];

/** virDomainEventType (lifecycle "event"). */
export const LifecycleEvent = {
  Defined: 0,
  Undefined: 1,
  Started: 2,
  Suspended: 3,
  Resumed: 4,
  Stopped: 5,
  Shutdown: 6,
  PmSuspended: 7,
  Crashed: 8,
} as const;

export const DefinedDetail = { Added: 0, Updated: 1, Renamed: 2, FromSnapshot: 3 } as const;
export const UndefinedDetail = { Removed: 0, Renamed: 1 } as const;
export const StartedDetail = { Booted: 0, Migrated: 1, Restored: 2, FromSnapshot: 3, Wakeup: 4 } as const;
export const SuspendedDetail = {
  Paused: 0,
  Migrated: 1,
  IoError: 2,
  Watchdog: 3,
  Restored: 4,
  FromSnapshot: 5,
  ApiError: 6,
  /** The source switched to post-copy: the guest now runs on the destination. */
  Postcopy: 7,
  PostcopyFailed: 8,
} as const;
export const ResumedDetail = { Unpaused: 0, Migrated: 1, FromSnapshot: 2, Postcopy: 3, PostcopyFailed: 4 } as const;
export const StoppedDetail = { Shutdown: 0, Destroyed: 1, Crashed: 2, Migrated: 3, Saved: 4, Failed: 5, FromSnapshot: 6 } as const;
export const ShutdownDetail = { Finished: 0, Guest: 1, Host: 2 } as const;
export const PmSuspendedDetail = { Memory: 0, Disk: 1 } as const;
export const CrashedDetail = { Panicked: 0, CrashLoaded: 1 } as const;

const detailTables: Record<number, Record<string, number>> = {
  [LifecycleEvent.Defined]: DefinedDetail,
  [LifecycleEvent.Undefined]: UndefinedDetail,
  [LifecycleEvent.Started]: StartedDetail,
  [LifecycleEvent.Suspended]: SuspendedDetail,
  [LifecycleEvent.Resumed]: ResumedDetail,
  [LifecycleEvent.Stopped]: StoppedDetail,
  [LifecycleEvent.Shutdown]: ShutdownDetail,
  [LifecycleEvent.PmSuspended]: PmSuspendedDetail,
  [LifecycleEvent.Crashed]: CrashedDetail,
};

export interface DomainLifecycleEvent {
  kind: 'lifecycle';
  callbackId: number;
  dom: DomainRef;
  event: number;
  eventName: string;
  detail: number;
  detailName: string;
}

export interface DomainMigrationIterationEvent {
  kind: 'migration-iteration';
  callbackId: number;
  dom: DomainRef;
  iteration: number;
}

export interface DomainJobCompletedEvent {
  kind: 'job-completed';
  callbackId: number;
  dom: DomainRef;
  /** Final statistics of the job (type is Completed: the event does not carry a type). */
  stats: JobStats;
}

export interface DomainEventMap {
  [DomainEventId.Lifecycle]: DomainLifecycleEvent;
  [DomainEventId.MigrationIteration]: DomainMigrationIterationEvent;
  [DomainEventId.JobCompleted]: DomainJobCompletedEvent;
}
export type TypedDomainEventId = keyof DomainEventMap;
/** Any of the typed events: what a migration watcher listens to. */
export type TypedDomainEvent = DomainEventMap[TypedDomainEventId];

export function decodeLifecycle(payload: Buffer): DomainLifecycleEvent {
  const r = new XdrReader(payload);
  const callbackId = r.readInt();
  const dom = readDomain(r);
  const event = r.readInt();
  const detail = r.readInt();
  r.assertEnd('lifecycle event');
  const table = detailTables[event];
  return {
    kind: 'lifecycle',
    callbackId,
    dom,
    event,
    eventName: nameOf(LifecycleEvent, event),
    detail,
    detailName: table ? nameOf(table, detail) : `unknown(${detail})`,
  };
}

export function decodeMigrationIteration(payload: Buffer): DomainMigrationIterationEvent {
  const r = new XdrReader(payload);
  const callbackId = r.readInt();
  const dom = readDomain(r);
  const iteration = r.readInt();
  r.assertEnd('migration-iteration event');
  return { kind: 'migration-iteration', callbackId, dom, iteration };
}

export function decodeJobCompleted(payload: Buffer): DomainJobCompletedEvent {
  const r = new XdrReader(payload);
  const callbackId = r.readInt();
  const dom = readDomain(r);
  const params = readTypedParams(r, Limits.JOB_STATS_MAX);
  r.assertEnd('job-completed event');
  return { kind: 'job-completed', callbackId, dom, stats: parseJobStats(JobType.Completed, params) };
}

/** For each typed event: the MESSAGE procedure it arrives as, and its decoder. */
export const domainEventCodecs: { [K in TypedDomainEventId]: { procedure: number; decode: (p: Buffer) => DomainEventMap[K] } } = {
  [DomainEventId.Lifecycle]: { procedure: Procedure.DomainEventCallbackLifecycle, decode: decodeLifecycle },
  [DomainEventId.MigrationIteration]: {
    procedure: Procedure.DomainEventCallbackMigrationIteration,
    decode: decodeMigrationIteration,
  },
  [DomainEventId.JobCompleted]: { procedure: Procedure.DomainEventCallbackJobCompleted, decode: decodeJobCompleted },
};

/** Every callback-style event payload starts with the callback id the daemon assigned. */
export function peekCallbackId(payload: Buffer): number | null {
  return payload.length >= 4 ? payload.readInt32BE(0) : null;
}
