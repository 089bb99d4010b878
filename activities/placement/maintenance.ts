/**
 * A host's maintenance mark in Placement: ferry's trait on the host's resource provider
 * (model/drain/maintenance.ts). Setting and clearing are idempotent and keep every other trait,
 * writing with the provider generation just read (a 409 re-reads).
 */
import { MAINTENANCE_TRAIT } from '../../model/drain/maintenance';
import type { PlacementClient } from './client';
import { PlacementStateError } from './errors';
import { retryOnConcurrentUpdate, type RetryOptions } from './retry';

export interface MaintenanceResult {
  /** The mark was written now (false: it already was as asked). */
  changed: boolean;
  inMaintenance: boolean;
}

export async function setMaintenanceTrait(client: PlacementClient, rpUuid: string, on: boolean, retry: RetryOptions = {}): Promise<MaintenanceResult> {
  if (on) await client.ensureTrait(MAINTENANCE_TRAIT);
  return retryOnConcurrentUpdate(`${on ? 'set' : 'clear'} ${MAINTENANCE_TRAIT} on provider ${rpUuid}`, retry, async () => {
    const current = await client.getProviderTraits(rpUuid);
    if (!current) {
      throw new PlacementStateError('ferry.placement.no_provider', `the host's resource provider ${rpUuid} is not in Placement: register the host there (or fix its rp in the host inventory)`);
    }
    const has = current.traits.includes(MAINTENANCE_TRAIT);
    if (has === on) return { changed: false, inMaintenance: on };
    const traits = on ? [...current.traits, MAINTENANCE_TRAIT] : current.traits.filter((t) => t !== MAINTENANCE_TRAIT);
    await client.putProviderTraits(rpUuid, current.resource_provider_generation, traits);
    return { changed: true, inMaintenance: on };
  });
}

/** The provider carries the mark (a provider Placement does not know is not in maintenance). */
export async function inMaintenance(client: PlacementClient, rpUuid: string): Promise<boolean> {
  return (await client.getProviderTraits(rpUuid))?.traits.includes(MAINTENANCE_TRAIT) ?? false;
}
