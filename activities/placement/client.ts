/**
 * ferry's OpenStack Placement REST client: resource providers, inventories, usages, allocations
 * (with consumer generations) and allocation candidates. Reads are validated with zod; errors are
 * PlacementError with Placement's own code. Microversion 1.39 by default.
 */
import { PlacementError, PlacementStateError } from './errors';
import { type Microversion, PlacementHttp, type PlacementHttpOptions } from './http';
import {
  allocationCandidatesSchema,
  consumerAllocationsSchema,
  type Inventories,
  inventoriesSchema,
  type Inventory,
  providerTraitsSchema,
  type ProviderTraits,
  type ResourceProvider,
  resourceProviderListSchema,
  resourceProviderSchema,
  type Usages,
  usagesSchema,
  versionsSchema,
} from './schemas';
import { retryOnConcurrentUpdate, type RetryOptions } from './retry';

/** Resource class -> amount, e.g. { VCPU: 2, MEMORY_MB: 2048 }. */
export type Resources = Record<string, number>;
/** Resource provider UUID -> resources held there. */
export type AllocationMap = Record<string, Resources>;
export type ConsumerType = 'INSTANCE' | 'MIGRATION';

export interface ConsumerAllocations {
  consumerUuid: string;
  allocations: AllocationMap;
  /** null: the consumer does not exist (no allocations); write with null to create it. */
  consumerGeneration: number | null;
  projectId?: string;
  userId?: string;
  consumerType?: string;
}

export interface AllocationWrite {
  allocations: AllocationMap;
  projectId: string;
  userId: string;
  /** The generation last read; null for a consumer that has no allocations yet. */
  consumerGeneration: number | null;
  /** Sent at microversion >= 1.38 (where Placement requires it); INSTANCE when omitted. */
  consumerType?: ConsumerType;
}

/** Inventory fields other than total default to Placement's own defaults. */
export type InventoryInput = Pick<Inventory, 'total'> & Partial<Omit<Inventory, 'total'>>;

export interface AllocationCandidatesQuery {
  resources: Resources;
  /** Restrict to the tree of this provider (microversion >= 1.31). */
  inTree?: string;
  limit?: number;
  /** Required traits, e.g. ['COMPUTE_STATUS_DISABLED' negated as '!COMPUTE_STATUS_DISABLED']. */
  required?: string[];
}

export interface AllocationCandidates {
  allocationRequests: { allocations: AllocationMap; mappings?: Record<string, string[]> }[];
  providerSummaries: Record<
    string,
    {
      resources: Record<string, { capacity: number; used: number }>;
      traits?: string[];
      parentProviderUuid?: string | null;
      rootProviderUuid?: string | null;
    }
  >;
}

export type PlacementClientOptions = PlacementHttpOptions;

export class PlacementClient {
  readonly http: PlacementHttp;

  constructor(opts: PlacementClientOptions) {
    this.http = new PlacementHttp(opts);
  }

  get microversion(): Microversion {
    return this.http.microversion;
  }

  /** GET / (no microversion needed): the supported range; also a cheap health check. */
  async versions(): Promise<{ minVersion: string; maxVersion: string }> {
    const body = await this.http.json('GET', '/', versionsSchema);
    const v = body.versions[0];
    if (!v) throw new PlacementError(500, 'placement.undefined_code', 'No versions', 'GET / listed no API version', 'GET', '/');
    return { minVersion: v.min_version, maxVersion: v.max_version };
  }

  // ---- resource providers -------------------------------------------------------------------

  async listResourceProviders(filter: { name?: string; uuid?: string; inTree?: string } = {}): Promise<ResourceProvider[]> {
    const q = new URLSearchParams();
    if (filter.name !== undefined) q.set('name', filter.name);
    if (filter.uuid !== undefined) q.set('uuid', filter.uuid);
    if (filter.inTree !== undefined) q.set('in_tree', filter.inTree);
    const qs = q.toString();
    const body = await this.http.json('GET', `/resource_providers${qs ? `?${qs}` : ''}`, resourceProviderListSchema);
    return body.resource_providers;
  }

  /** The provider, or undefined when Placement has none with this UUID. */
  async getResourceProvider(uuid: string): Promise<ResourceProvider | undefined> {
    return this.http.jsonOrUndefined('GET', `/resource_providers/${enc(uuid)}`, resourceProviderSchema, [404]);
  }

  /** Creates a provider with an explicit UUID (microversion >= 1.20 answers the provider). */
  async createResourceProvider(p: { uuid: string; name: string; parentProviderUuid?: string }): Promise<ResourceProvider> {
    this.http.requireMicroversion('1.20', 'createResourceProvider');
    const body: Record<string, unknown> = { uuid: p.uuid, name: p.name };
    if (p.parentProviderUuid !== undefined) body.parent_provider_uuid = p.parentProviderUuid;
    return this.http.json('POST', '/resource_providers', resourceProviderSchema, { body });
  }

  /**
   * Idempotent by UUID: returns the existing provider or creates it. Refuses (409 from Placement,
   * or a mismatch) when the UUID or the name is already used differently.
   */
  async ensureResourceProvider(p: { uuid: string; name: string }): Promise<ResourceProvider> {
    const existing = await this.getResourceProvider(p.uuid);
    if (existing) return checkName(existing, p.name);
    try {
      return await this.createResourceProvider(p);
    } catch (err) {
      // A concurrent creator may have won; anything else (e.g. the name taken by another UUID) stands.
      if (err instanceof PlacementError && err.status === 409) {
        const now = await this.getResourceProvider(p.uuid);
        if (now) return checkName(now, p.name);
      }
      throw err;
    }
  }

  /** Deletes a provider; false when it did not exist. 409 placement.resource_provider.inuse with allocations. */
  async deleteResourceProvider(uuid: string): Promise<boolean> {
    return (await this.http.send('DELETE', `/resource_providers/${enc(uuid)}`, { tolerate: [404] })) !== 404;
  }

  // ---- custom resource classes --------------------------------------------------------------

  /** Creates the custom resource class (CUSTOM_*) unless it exists: 201 or 204 (microversion >= 1.7). */
  async ensureResourceClass(name: string): Promise<void> {
    this.http.requireMicroversion('1.7', 'ensureResourceClass');
    await this.http.send('PUT', `/resource_classes/${enc(name)}`);
  }

  /** Deletes a custom resource class; false when it did not exist. 409 while any inventory uses it. */
  async deleteResourceClass(name: string): Promise<boolean> {
    return (await this.http.send('DELETE', `/resource_classes/${enc(name)}`, { tolerate: [404] })) !== 404;
  }

  // ---- inventories and usages -------------------------------------------------------------

  async getInventories(rpUuid: string): Promise<Inventories> {
    return this.http.json('GET', `/resource_providers/${enc(rpUuid)}/inventories`, inventoriesSchema);
  }

  /** One PUT with the given provider generation; a stale one gets 409 placement.concurrent_update. */
  async putInventories(rpUuid: string, generation: number, inventories: Record<string, InventoryInput>): Promise<Inventories> {
    return this.http.json('PUT', `/resource_providers/${enc(rpUuid)}/inventories`, inventoriesSchema, {
      body: { resource_provider_generation: generation, inventories },
    });
  }

  /** Replaces the inventories, re-reading the provider generation on each conflict. */
  async setInventories(
    rpUuid: string,
    inventories: Record<string, InventoryInput>,
    retry: RetryOptions = {},
  ): Promise<Inventories> {
    return retryOnConcurrentUpdate(`set inventories of provider ${rpUuid}`, retry, async () => {
      const current = await this.getInventories(rpUuid);
      return this.putInventories(rpUuid, current.resource_provider_generation, inventories);
    });
  }

  async getUsages(rpUuid: string): Promise<Usages> {
    return this.http.json('GET', `/resource_providers/${enc(rpUuid)}/usages`, usagesSchema);
  }

  // ---- traits ------------------------------------------------------------------------------

  /** The provider's traits and generation; undefined when Placement has no such provider. */
  async getProviderTraits(rpUuid: string): Promise<ProviderTraits | undefined> {
    this.http.requireMicroversion('1.6', 'getProviderTraits');
    return this.http.jsonOrUndefined('GET', `/resource_providers/${enc(rpUuid)}/traits`, providerTraitsSchema, [404]);
  }

  /** Replaces the provider's traits with the generation just read; a stale one gets 409 placement.concurrent_update. */
  async putProviderTraits(rpUuid: string, generation: number, traits: string[]): Promise<ProviderTraits> {
    this.http.requireMicroversion('1.6', 'putProviderTraits');
    return this.http.json('PUT', `/resource_providers/${enc(rpUuid)}/traits`, providerTraitsSchema, {
      body: { resource_provider_generation: generation, traits },
    });
  }

  /** Creates the custom trait (CUSTOM_*) unless it exists: 201 or 204. */
  async ensureTrait(name: string): Promise<void> {
    this.http.requireMicroversion('1.6', 'ensureTrait');
    await this.http.send('PUT', `/traits/${enc(name)}`);
  }

  // ---- allocations -------------------------------------------------------------------------

  /** The consumer's allocations and generation (null when it has none: the consumer does not exist). */
  async getAllocations(consumerUuid: string): Promise<ConsumerAllocations> {
    this.http.requireMicroversion('1.28', 'getAllocations with consumer generations');
    const body = await this.http.json('GET', `/allocations/${enc(consumerUuid)}`, consumerAllocationsSchema);
    const allocations: AllocationMap = {};
    for (const [rp, a] of Object.entries(body.allocations)) allocations[rp] = { ...a.resources };
    return {
      consumerUuid,
      allocations,
      consumerGeneration: body.consumer_generation ?? null,
      ...(body.project_id !== undefined && { projectId: body.project_id }),
      ...(body.user_id !== undefined && { userId: body.user_id }),
      ...(body.consumer_type !== undefined && { consumerType: body.consumer_type }),
    };
  }

  /** Replaces the consumer's allocations (all providers at once). */
  async putAllocations(consumerUuid: string, write: AllocationWrite): Promise<void> {
    this.http.requireMicroversion('1.28', 'putAllocations with consumer generations');
    await this.http.send('PUT', `/allocations/${enc(consumerUuid)}`, { body: this.allocationBody(write) });
  }

  /**
   * Writes several consumers atomically (all or nothing): how Nova moves an allocation from one
   * consumer to another. An empty `allocations` removes that consumer's allocations.
   */
  async postAllocations(writes: Record<string, AllocationWrite>): Promise<void> {
    this.http.requireMicroversion('1.28', 'postAllocations with consumer generations');
    const body: Record<string, unknown> = {};
    for (const [consumer, w] of Object.entries(writes)) body[consumer] = this.allocationBody(w);
    await this.http.send('POST', '/allocations', { body });
  }

  /** Deletes every allocation of the consumer; false when it had none. */
  async deleteAllocations(consumerUuid: string): Promise<boolean> {
    return (await this.http.send('DELETE', `/allocations/${enc(consumerUuid)}`, { tolerate: [404] })) !== 404;
  }

  async getAllocationCandidates(query: AllocationCandidatesQuery): Promise<AllocationCandidates> {
    const q = new URLSearchParams();
    q.set('resources', formatResources(query.resources));
    if (query.inTree !== undefined) {
      this.http.requireMicroversion('1.31', 'allocation candidates in_tree');
      q.set('in_tree', query.inTree);
    }
    if (query.required?.length) q.set('required', query.required.join(','));
    if (query.limit !== undefined) q.set('limit', String(query.limit));
    const body = await this.http.json('GET', `/allocation_candidates?${q.toString()}`, allocationCandidatesSchema);
    return {
      allocationRequests: body.allocation_requests.map((r) => {
        const allocations: AllocationMap = {};
        for (const [rp, a] of Object.entries(r.allocations)) allocations[rp] = { ...a.resources };
        return r.mappings ? { allocations, mappings: r.mappings } : { allocations };
      }),
      providerSummaries: Object.fromEntries(
        Object.entries(body.provider_summaries).map(([rp, s]) => [
          rp,
          {
            resources: s.resources,
            ...(s.traits !== undefined && { traits: s.traits }),
            parentProviderUuid: s.parent_provider_uuid ?? null,
            rootProviderUuid: s.root_provider_uuid ?? null,
          },
        ]),
      ),
    };
  }

  private allocationBody(w: AllocationWrite): Record<string, unknown> {
    const allocations: Record<string, { resources: Resources }> = {};
    for (const [rp, resources] of Object.entries(w.allocations)) allocations[rp] = { resources };
    const body: Record<string, unknown> = {
      allocations,
      project_id: w.projectId,
      user_id: w.userId,
      consumer_generation: w.consumerGeneration,
    };
    if (this.http.atLeast('1.38')) body.consumer_type = w.consumerType ?? 'INSTANCE';
    return body;
  }
}

/** `{VCPU: 1, MEMORY_MB: 512}` -> `VCPU:1,MEMORY_MB:512` (zero amounts are left out). */
export function formatResources(resources: Resources): string {
  const parts = Object.entries(resources)
    .filter(([, n]) => n > 0)
    .map(([rc, n]) => `${rc}:${n}`);
  if (parts.length === 0) throw new Error('allocation candidates need at least one resource amount > 0');
  return parts.join(',');
}

function checkName(rp: ResourceProvider, name: string): ResourceProvider {
  if (rp.name !== name) {
    throw new PlacementStateError(
      'ferry.placement.provider_name_mismatch',
      `resource provider ${rp.uuid} exists with name '${rp.name}', expected '${name}'`,
    );
  }
  return rp;
}

function enc(s: string): string {
  return encodeURIComponent(s);
}
