import type { GuestMeter } from '../activities/deps';
import { markNow, stallSince, type GuestMark } from './guest/serial';
import { sleep } from './proc';
import { readLabState } from './state';
import { vmSerial } from './vms';

const SETTLE_READ_EVERY_MS = 100;
/** 8 s at most, as before. */
const SETTLE_READS = 80;

/** The lab guests' own stall meter, for the migration outcome's guestMaxStallMs. */
export const labGuestMeter: GuestMeter = {
  async mark(vmName) {
    if (!readLabState()?.vms.some((v) => v.name === vmName)) return null; // not a lab guest
    return (markNow(await vmSerial(vmName)) as unknown as Record<string, unknown>) ?? null;
  },
  async stallSinceMs(vmName, mark) {
    // The meter settles two RTC intervals after the event; wait for it a few seconds at most.
    // Read often: the migration's outcome waits for this reading (bench/overhead measured 0.38 s
    // of it when read every 500 ms), and a read is a few small local files.
    for (let i = 0; i < SETTLE_READS; i++) {
      const r = stallSince(await vmSerial(vmName), mark as unknown as GuestMark);
      if (r.settled || i === SETTLE_READS - 1) return r.lines > 0 ? Math.round(r.feltUs / 100) / 10 : null;
      await sleep(SETTLE_READ_EVERY_MS);
    }
    return null;
  },
};
