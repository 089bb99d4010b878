import type { PlacementClient } from './placement';
import type { HostConnections } from './connections';
import type { Inventory } from './hosts';
import type { RunningMigration } from '../model/migrations-in-flight';
import type { PastMigration } from '../model/forecast/path-history';

/** A lab guest's stall meter (lab/guest): how long the guest felt frozen. Absent outside the lab. */
export interface GuestMeter {
  mark(vmName: string): Promise<Record<string, unknown> | null>;
  /** The longest stall felt since the mark, in ms; waits briefly for the meter to settle. */
  stallSinceMs(vmName: string, mark: Record<string, unknown>): Promise<number | null>;
}

/** How the watch activity learns that something happened. */
export type WatchMode = 'events' | 'poll';

/** Why the watch looked at the hosts again after its first look of a round. */
export type WatchLookReason = 'event' | 'feed-lost' | 'safety-poll' | 'poll' | 'deadline';

/** How one watch round went (diagnostics for benchmarks and tests; nothing decides on it). */
export interface WatchRoundReport {
  mode: WatchMode;
  /** Events mode only: events could not be (re)subscribed on a host, so the round polled. */
  polledForLackOfEvents: boolean;
  /** Why events could not be subscribed ('source host-a: ...'), when they could not. */
  subscribeErrors: string[];
  /** Readings of both hosts (views and job stats), the first one included. */
  observations: number;
  /** Why each reading after the first was taken. */
  looks: WatchLookReason[];
  /** The events about the VM that called for a look, e.g. 'source:migration-iteration 4'. */
  events: string[];
  waitedMs: number;
}

export interface WatchOptions {
  /**
   * 'events' (default): wait for libvirt's events about the VM (or the round's deadline) and read
   * only then; job-stats polling every `pollMs` only while events cannot be subscribed.
   * 'poll': the former behaviour, a full reading every `pollMs` (kept for comparison).
   */
  mode?: WatchMode;
  /** Events mode: look anyway after this long without an event (a lost event). Default 10 s. */
  safetyPollMs?: number;
  /** Called once per round with how it went. */
  onRound?: (report: WatchRoundReport) => void;
}

/**
 * The running LiveMigrations as Temporal's visibility lists them (the worker builds it on its own
 * Temporal connection: same address, namespace and TLS): what admission counts.
 */
export interface MigrationsVisibility {
  runningMigrations(): Promise<RunningMigration[]>;
}

/**
 * The most recent completed migrations from one host to another, latest first, as Temporal's
 * visibility lists them (worker/visibility/past-migrations.ts): what a forecast learns the path's
 * fixed costs from.
 */
export interface PastMigrationsVisibility {
  pastMigrations(source: string, destination: string, limit: number): Promise<PastMigration[]>;
}

export interface ActivityDeps {
  inventory: Inventory;
  connections: HostConnections;
  placement: PlacementClient;
  visibility: MigrationsVisibility;
  /** Absent (the simulated fleet, unit tests): forecasts use the lab's fixed costs. */
  history?: PastMigrationsVisibility;
  guestMeter?: GuestMeter;
  /** How often the watch activity samples job stats when it polls (default 500 ms). */
  pollMs?: number;
  watch?: WatchOptions;
}
