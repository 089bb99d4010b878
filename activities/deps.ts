import type { PlacementClient } from './placement';
import type { HostConnections } from './connections';
import type { Inventory } from './hosts';

/** A lab guest's stall meter (lab/guest): how long the guest felt frozen. Absent outside the lab. */
export interface GuestMeter {
  mark(vmName: string): Promise<Record<string, unknown> | null>;
  /** The longest stall felt since the mark, in ms; waits briefly for the meter to settle. */
  stallSinceMs(vmName: string, mark: Record<string, unknown>): Promise<number | null>;
}

export interface ActivityDeps {
  inventory: Inventory;
  connections: HostConnections;
  placement: PlacementClient;
  guestMeter?: GuestMeter;
  /** How often the watch activity samples job stats. */
  pollMs?: number;
}
