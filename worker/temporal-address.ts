import type { TemporalSettings } from '../config/temporal-env';
import { LAB_TEMPORAL_ADDRESS } from '../config/temporal-defaults';

/**
 * The worker's Temporal: TEMPORAL_ADDRESS, else the Temporal profile's address
 * (config/temporal-env.ts decides between those two), else the running lab's, else the lab's
 * default port. `from` says which, for the start-up log and every error.
 */
export function chooseTemporalAddress(
  temporal: Pick<TemporalSettings, 'address' | 'origin'>,
  lab?: { describe: string; address?: string },
): { address: string; from: string } {
  if (temporal.address !== undefined) return { address: temporal.address, from: temporal.origin.address };
  if (lab?.address) return { address: lab.address, from: `from ${lab.describe}; ${temporal.origin.address}` };
  return { address: LAB_TEMPORAL_ADDRESS, from: `default, the lab's; ${temporal.origin.address}${lab ? `; ${lab.describe} names none running` : ''}` };
}
