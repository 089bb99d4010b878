/**
 * An in-memory Placement behind a fake fetch: consumer and provider generations as the real
 * service enforces them (checked against Placement 8.0.0), every request recorded, and a hook to
 * play "another writer" between our read and our write. Providers added with addProvider have
 * their capacity enforced on allocation writes and answer allocation candidates (one provider per
 * tree, as the lab has); allocations on providers the fake does not know are not checked.
 */
type Resources = Record<string, number>;
type AllocationMap = Record<string, Resources>;

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

interface Consumer {
  generation: number;
  projectId: string;
  userId: string;
  consumerType: string;
  allocations: AllocationMap;
}

interface Provider {
  name: string;
  generation: number;
  inventories: Record<string, { total: number }>;
  traits?: string[];
}

export class FakePlacement {
  readonly requests: RecordedRequest[] = [];
  readonly consumers = new Map<string, Consumer>();
  readonly providers = new Map<string, Provider>();
  /** Traits Placement knows (standard ones are not listed: the fake accepts them). */
  readonly customTraits = new Set<string>();
  /** Custom resource classes created with PUT /resource_classes/CUSTOM_*. */
  readonly customClasses = new Set<string>();
  /** Called before each request is served; may mutate state (a concurrent writer) or return a canned response. */
  onRequest?: (req: RecordedRequest, n: number) => Response | void;

  readonly fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const headers = Object.fromEntries(Object.entries((init?.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]));
    const req: RecordedRequest = {
      method: init?.method ?? 'GET',
      path: url.pathname + url.search,
      headers,
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    this.requests.push(req);
    const canned = this.onRequest?.(req, this.requests.length);
    if (canned) return canned;
    return this.serve(req.method, url.pathname, req.body, url.searchParams);
  };

  writes(): RecordedRequest[] {
    return this.requests.filter((r) => r.method !== 'GET');
  }

  addProvider(uuid: string, name: string, inventories: Record<string, number> = {}): void {
    this.providers.set(uuid, {
      name,
      generation: Object.keys(inventories).length ? 1 : 0,
      inventories: Object.fromEntries(Object.entries(inventories).map(([rc, total]) => [rc, { total }])),
    });
  }

  setConsumer(uuid: string, allocations: AllocationMap, generation = 1, consumerType = 'INSTANCE'): void {
    this.consumers.set(uuid, { generation, projectId: 'proj', userId: 'user', consumerType, allocations });
  }

  /** Serves a recorded request now (from onRequest: the write happens, and then its answer can be lost). */
  apply(req: RecordedRequest): Response {
    const url = new URL('http://fake' + req.path);
    return this.serve(req.method, url.pathname, req.body, url.searchParams);
  }

  /** Placement stops answering: every request from now on fails as an unreachable service does. */
  goDown(): void {
    this.onRequest = () => {
      throw new TypeError('fetch failed (connect ECONNREFUSED 127.0.0.1:8778)');
    };
  }

  /** Sum of every consumer's allocations on the provider, by resource class. */
  usages(rp: string): Resources {
    const used: Resources = {};
    for (const c of this.consumers.values()) {
      for (const [rc, n] of Object.entries(c.allocations[rp] ?? {})) used[rc] = (used[rc] ?? 0) + n;
    }
    return used;
  }

  /** What another writer does: changes a consumer behind our back (its generation moves on). */
  touchConsumer(uuid: string): void {
    const c = this.consumers.get(uuid);
    if (c) c.generation += 1;
  }

  private serve(method: string, path: string, body: unknown, query: URLSearchParams): Response {
    let m: RegExpMatchArray | null;
    if ((m = path.match(/^\/allocations\/([^/]+)$/))) {
      const id = decodeURIComponent(m[1]!);
      if (method === 'GET') return json(200, this.consumerView(id));
      if (method === 'PUT') {
        const err = this.writeConsumers({ [id]: body as WireWrite });
        return err ?? new Response(null, { status: 204 });
      }
      if (method === 'DELETE') {
        if (!this.consumers.delete(id)) return error(404, 'Not Found', `No allocations for consumer '${id}'`);
        return new Response(null, { status: 204 });
      }
    }
    if (path === '/allocations' && method === 'POST') {
      return this.writeConsumers(body as Record<string, WireWrite>) ?? new Response(null, { status: 204 });
    }
    if (path === '/allocation_candidates' && method === 'GET') return this.candidates(query);
    if (path === '/resource_providers' && method === 'GET') {
      const inTree = query.get('in_tree');
      const list = [...this.providers.entries()]
        .filter(([uuid]) => inTree === null || uuid === inTree)
        .map(([uuid, rp]) => ({ uuid, name: rp.name, generation: rp.generation, parent_provider_uuid: null, root_provider_uuid: uuid }));
      return json(200, { resource_providers: list });
    }
    if ((m = path.match(/^\/resource_providers\/([^/]+)\/usages$/)) && method === 'GET') {
      const uuid = decodeURIComponent(m[1]!);
      const rp = this.providers.get(uuid);
      if (!rp) return error(404, 'Not Found', 'No resource provider');
      return json(200, { resource_provider_generation: rp.generation, usages: this.usages(uuid) });
    }
    if ((m = path.match(/^\/resource_classes\/([^/]+)$/)) && method === 'PUT') {
      const name = decodeURIComponent(m[1]!);
      const existed = this.customClasses.has(name);
      this.customClasses.add(name);
      return new Response(null, { status: existed ? 204 : 201 });
    }
    if ((m = path.match(/^\/traits\/([^/]+)$/)) && method === 'PUT') {
      const name = decodeURIComponent(m[1]!);
      const existed = this.customTraits.has(name);
      this.customTraits.add(name);
      return new Response(null, { status: existed ? 204 : 201 });
    }
    if ((m = path.match(/^\/resource_providers\/([^/]+)\/traits$/))) {
      const rp = this.providers.get(decodeURIComponent(m[1]!));
      if (!rp) return error(404, 'Not Found', 'No resource provider');
      if (method === 'PUT') {
        const b = body as { resource_provider_generation: number; traits: string[] };
        if (b.resource_provider_generation !== rp.generation) {
          return error(409, 'Conflict', 'resource provider generation conflict', 'placement.concurrent_update');
        }
        const unknown = b.traits.filter((t) => t.startsWith('CUSTOM_') && !this.customTraits.has(t));
        if (unknown.length) return error(400, 'Bad Request', `No such trait(s): ${unknown.join(', ')}`);
        rp.traits = [...b.traits];
        rp.generation += 1;
      }
      return json(200, { traits: rp.traits ?? [], resource_provider_generation: rp.generation });
    }
    if ((m = path.match(/^\/resource_providers\/([^/]+)\/inventories$/))) {
      const rp = this.providers.get(decodeURIComponent(m[1]!));
      if (!rp) return error(404, 'Not Found', 'No resource provider');
      if (method === 'GET') return json(200, this.inventoriesView(rp));
      if (method === 'PUT') {
        const b = body as { resource_provider_generation: number; inventories: Record<string, { total: number }> };
        if (b.resource_provider_generation !== rp.generation) {
          return error(409, 'Conflict', 'resource provider generation conflict', 'placement.concurrent_update');
        }
        rp.inventories = b.inventories;
        rp.generation += 1;
        return json(200, this.inventoriesView(rp));
      }
    }
    if ((m = path.match(/^\/resource_providers\/([^/]+)$/)) && method === 'GET') {
      const uuid = decodeURIComponent(m[1]!);
      const rp = this.providers.get(uuid);
      if (!rp) return error(404, 'Not Found', `No resource provider with uuid ${uuid} found`);
      return json(200, { uuid, name: rp.name, generation: rp.generation, parent_provider_uuid: null, root_provider_uuid: uuid });
    }
    if (path === '/resource_providers' && method === 'POST') {
      const b = body as { uuid: string; name: string };
      for (const [uuid, rp] of this.providers) {
        if (uuid === b.uuid || rp.name === b.name) return error(409, 'Conflict', 'Conflicting resource provider', 'placement.duplicate_name');
      }
      this.providers.set(b.uuid, { name: b.name, generation: 0, inventories: {} });
      return json(200, { uuid: b.uuid, name: b.name, generation: 0, parent_provider_uuid: null, root_provider_uuid: b.uuid });
    }
    return error(404, 'Not Found', `fake has no route ${method} ${path}`);
  }

  private consumerView(id: string): unknown {
    const c = this.consumers.get(id);
    if (!c) return { allocations: {} };
    return {
      allocations: Object.fromEntries(Object.entries(c.allocations).map(([rp, resources]) => [rp, { resources, generation: 7 }])),
      consumer_generation: c.generation,
      project_id: c.projectId,
      user_id: c.userId,
      consumer_type: c.consumerType,
    };
  }

  private inventoriesView(rp: Provider): unknown {
    return {
      resource_provider_generation: rp.generation,
      inventories: Object.fromEntries(
        Object.entries(rp.inventories).map(([rc, inv]) => [
          rc,
          { total: inv.total, reserved: 0, min_unit: 1, max_unit: 2147483647, step_size: 1, allocation_ratio: 1.0 },
        ]),
      ),
    };
  }

  /** GET /allocation_candidates: every known provider (in the tree asked for) with room for all of it. */
  private candidates(query: URLSearchParams): Response {
    const wanted: Resources = {};
    for (const part of (query.get('resources') ?? '').split(',').filter(Boolean)) {
      const [rc, n] = part.split(':');
      wanted[rc!] = Number(n);
    }
    const inTree = query.get('in_tree');
    const limit = query.has('limit') ? Number(query.get('limit')) : Infinity;
    const fits = [...this.providers.keys()]
      .filter((uuid) => inTree === null || uuid === inTree)
      .filter((uuid) => this.shortOf(uuid, wanted) === undefined)
      .slice(0, limit);
    return json(200, {
      allocation_requests: fits.map((uuid) => ({ allocations: { [uuid]: { resources: wanted } }, mappings: { '': [uuid] } })),
      provider_summaries: Object.fromEntries(
        fits.map((uuid) => {
          const used = this.usages(uuid);
          const inv = this.providers.get(uuid)!.inventories;
          const resources = Object.fromEntries(Object.entries(inv).map(([rc, i]) => [rc, { capacity: i.total, used: used[rc] ?? 0 }]));
          return [uuid, { resources, traits: this.providers.get(uuid)!.traits ?? [], parent_provider_uuid: null, root_provider_uuid: uuid }];
        }),
      ),
    });
  }

  /** Placement's own words for why `extra` does not fit on the provider now; undefined when it fits. */
  private shortOf(uuid: string, extra: Resources, usedNow = this.usages(uuid)): string | undefined {
    const rp = this.providers.get(uuid)!;
    for (const [rc, n] of Object.entries(extra)) {
      const inv = rp.inventories[rc];
      if (!inv) return `Unable to allocate inventory: Inventory for '${rc}' on resource provider '${uuid}' invalid.`;
      if ((usedNow[rc] ?? 0) + n > inv.total) {
        return `Unable to allocate inventory: Unable to create allocation for '${rc}' on resource provider '${uuid}'. The requested amount would exceed the capacity.`;
      }
    }
    return undefined;
  }

  /** All-or-nothing, like Placement: every consumer's generation is checked before anything is written. */
  private writeConsumers(writes: Record<string, WireWrite>): Response | undefined {
    for (const [id, w] of Object.entries(writes)) {
      const existing = this.consumers.get(id);
      const expected = existing ? existing.generation : null;
      if (w.consumer_generation !== expected) {
        return error(
          409,
          'Conflict',
          `consumer generation conflict - expected ${expected ?? 'None'} but got ${w.consumer_generation ?? 'None'}`,
          'placement.concurrent_update',
        );
      }
    }
    // Capacity of the known providers, with the written consumers' old allocations replaced.
    for (const uuid of this.providers.keys()) {
      const used = this.usages(uuid);
      const extra: Resources = {};
      for (const [id, w] of Object.entries(writes)) {
        for (const [rc, n] of Object.entries(this.consumers.get(id)?.allocations[uuid] ?? {})) used[rc] = (used[rc] ?? 0) - n;
        for (const [rc, n] of Object.entries(w.allocations[uuid]?.resources ?? {})) extra[rc] = (extra[rc] ?? 0) + n;
      }
      const short = this.shortOf(uuid, extra, used);
      if (short) return error(409, 'Conflict', short);
    }
    for (const [id, w] of Object.entries(writes)) {
      const allocations: AllocationMap = {};
      for (const [rp, a] of Object.entries(w.allocations)) allocations[rp] = { ...a.resources };
      if (Object.keys(allocations).length === 0) {
        this.consumers.delete(id);
        continue;
      }
      const prev = this.consumers.get(id);
      this.consumers.set(id, {
        generation: (prev?.generation ?? 0) + 1,
        projectId: w.project_id,
        userId: w.user_id,
        consumerType: w.consumer_type ?? 'INSTANCE',
        allocations,
      });
    }
    return undefined;
  }
}

interface WireWrite {
  allocations: Record<string, { resources: Resources }>;
  project_id: string;
  user_id: string;
  consumer_generation: number | null;
  consumer_type?: string;
}

export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

/** Placement's error body, with the generic first paragraph the real service puts in detail. */
export function error(status: number, title: string, detail: string, code = 'placement.undefined_code'): Response {
  return json(status, {
    errors: [
      {
        status,
        title,
        detail: `There was a conflict when trying to complete your request.\n\n ${detail}  `,
        code,
        request_id: 'req-fake',
      },
    ],
  });
}
