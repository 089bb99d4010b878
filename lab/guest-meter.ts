import type { GuestMeter } from '../activities/deps';
import { markNow, stallSince, type GuestMark } from './guest/serial';
import { sleep } from './proc';
import { readLabState } from './state';
import { vmSerial } from './vms';

/** The lab guests' own stall meter, for the migration outcome's guestMaxStallMs. */
export const labGuestMeter: GuestMeter = {
  async mark(vmName) {
    if (!readLabState()?.vms.some((v) => v.name === vmName)) return null; // not a lab guest
    return (markNow(await vmSerial(vmName)) as unknown as Record<string, unknown>) ?? null;
  },
  async stallSinceMs(vmName, mark) {
    // The meter settles two RTC intervals after the event; wait for it a few seconds at most.
    for (let i = 0; i < 16; i++) {
      const r = stallSince(await vmSerial(vmName), mark as unknown as GuestMark);
      if (r.settled || i === 15) return r.lines > 0 ? Math.round(r.feltUs / 100) / 10 : null;
      await sleep(500);
    }
    return null;
  },
};
