/**
 * The embedded lab as the worker's fallback: its hosts, Placement, Temporal and guest stall
 * meter, used when FERRY_HOSTS_FILE / FERRY_PLACEMENT_URL are unset and no Temporal address is
 * configured (neither TEMPORAL_ADDRESS nor the Temporal profile).
 * Here, in the composition root, so that worker/ never imports lab/. Loaded only by `ferry worker`.
 */
import type { WorkerFallback } from '../worker/worker';

/** The lab's fallback when a lab state exists, else undefined (the worker then says what to set). */
export async function labFallback(): Promise<WorkerFallback | undefined> {
  const { readLabState, labStateFile } = require('../lab/state') as typeof import('../lab/state');
  const { labInventory } = require('../lab/inventory') as typeof import('../lab/inventory');
  const { startPlacement } = require('../lab/placement') as typeof import('../lab/placement');
  const { temporalStatus } = require('../lab/temporal') as typeof import('../lab/temporal');
  const { labGuestMeter } = require('../lab/guest-meter') as typeof import('../lab/guest-meter');
  if (readLabState() === undefined) return undefined;
  return {
    describe: `the lab's state ${labStateFile()}`,
    inventory: labInventory,
    placementUrl: async () => (await startPlacement()).url,
    guestMeter: labGuestMeter,
    temporalAddress: async () => {
      const t = await temporalStatus();
      return t.running ? t.address : undefined;
    },
  };
}
