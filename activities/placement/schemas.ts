/** zod schemas of every Placement response body the client reads (microversion 1.28 – 1.39). */
import { z } from 'zod';

const resourceAmounts = z.record(z.string(), z.number().int());

export const versionsSchema = z.object({
  versions: z.array(
    z.object({
      id: z.string(),
      min_version: z.string(),
      max_version: z.string(),
      status: z.string(),
    }),
  ),
});

export const resourceProviderSchema = z.object({
  uuid: z.string(),
  name: z.string(),
  generation: z.number().int(),
  parent_provider_uuid: z.string().nullish(),
  root_provider_uuid: z.string().nullish(),
});
export type ResourceProvider = z.infer<typeof resourceProviderSchema>;

export const resourceProviderListSchema = z.object({
  resource_providers: z.array(resourceProviderSchema),
});

export const inventorySchema = z.object({
  total: z.number().int(),
  reserved: z.number().int(),
  min_unit: z.number().int(),
  max_unit: z.number().int(),
  step_size: z.number().int(),
  allocation_ratio: z.number(),
});
export type Inventory = z.infer<typeof inventorySchema>;

export const inventoriesSchema = z.object({
  resource_provider_generation: z.number().int(),
  inventories: z.record(z.string(), inventorySchema),
});
export type Inventories = z.infer<typeof inventoriesSchema>;

export const usagesSchema = z.object({
  resource_provider_generation: z.number().int(),
  usages: resourceAmounts,
});
export type Usages = z.infer<typeof usagesSchema>;

/** GET|PUT /resource_providers/{uuid}/traits (microversion >= 1.6). */
export const providerTraitsSchema = z.object({
  traits: z.array(z.string()),
  resource_provider_generation: z.number().int(),
});
export type ProviderTraits = z.infer<typeof providerTraitsSchema>;

/** GET /allocations/{consumer}: an unknown consumer answers `{"allocations": {}}` only. */
export const consumerAllocationsSchema = z.object({
  allocations: z.record(
    z.string(),
    z.object({ resources: resourceAmounts, generation: z.number().int().optional() }),
  ),
  consumer_generation: z.number().int().nullish(),
  project_id: z.string().optional(),
  user_id: z.string().optional(),
  consumer_type: z.string().optional(),
});

export const allocationCandidatesSchema = z.object({
  allocation_requests: z.array(
    z.object({
      allocations: z.record(z.string(), z.object({ resources: resourceAmounts })),
      mappings: z.record(z.string(), z.array(z.string())).optional(),
    }),
  ),
  provider_summaries: z.record(
    z.string(),
    z.object({
      resources: z.record(z.string(), z.object({ capacity: z.number().int(), used: z.number().int() })),
      traits: z.array(z.string()).optional(),
      parent_provider_uuid: z.string().nullish(),
      root_provider_uuid: z.string().nullish(),
    }),
  ),
});

/** Placement's error body: `{"errors": [{status, title, detail, code?, request_id?}]}`. */
export const errorBodySchema = z.object({
  errors: z
    .array(
      z.object({
        status: z.number().int().optional(),
        title: z.string().optional(),
        detail: z.string().optional(),
        code: z.string().optional(),
        request_id: z.string().optional(),
      }),
    )
    .min(1),
});
