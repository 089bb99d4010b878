/** ferry's OpenStack Placement client and the Placement steps of a migration. */
export * from './client';
export * from './errors';
export { compareMicroversions, DEFAULT_MICROVERSION, type Microversion, PlacementHttp, type PlacementHttpOptions } from './http';
export * from './migration';
export { retryOnConcurrentUpdate, type RetryOptions } from './retry';
export type { Inventories, Inventory, ProviderTraits, ResourceProvider, Usages } from './schemas';
export * from './maintenance';
export * from './reservation';
export * from './seed';
