import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  compareMicroversions,
  PlacementClient,
  PlacementError,
  PlacementProtocolError,
  PlacementUnavailableError,
} from '../../../activities/placement';
import { PlacementHttp } from '../../../activities/placement/http';
import { error, FakePlacement, json } from './fake-placement';

function http(fake: FakePlacement, microversion?: `${number}.${number}`) {
  return new PlacementHttp({ baseUrl: 'http://placement.test:8778/', fetch: fake.fetch, ...(microversion && { microversion }) });
}

describe('Placement HTTP seam', () => {
  it('sends the noauth2 token, the 1.39 microversion and JSON content type', async () => {
    const fake = new FakePlacement();
    fake.onRequest = () => new Response(null, { status: 204 });
    await http(fake).send('PUT', '/allocations/x', { body: { a: 1 } });
    const [req] = fake.requests;
    expect(req!.path).toBe('/allocations/x');
    expect(req!.headers['x-auth-token']).toBe('admin');
    expect(req!.headers['openstack-api-version']).toBe('placement 1.39');
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.body).toEqual({ a: 1 });
  });

  it('uses a configured microversion and token', async () => {
    const fake = new FakePlacement();
    fake.onRequest = () => json(200, {});
    const h = new PlacementHttp({ baseUrl: 'http://p', fetch: fake.fetch, microversion: '1.28', token: 'tok' });
    await h.json('GET', '/', z.object({}));
    expect(fake.requests[0]!.headers['openstack-api-version']).toBe('placement 1.28');
    expect(fake.requests[0]!.headers['x-auth-token']).toBe('tok');
    expect(fake.requests[0]!.headers['content-type']).toBeUndefined();
  });

  it('turns a 409 body into a PlacementError with code, title and the specific detail', async () => {
    const fake = new FakePlacement();
    fake.onRequest = () =>
      error(409, 'Conflict', 'consumer generation conflict - expected 1 but got None', 'placement.concurrent_update');
    const err = await http(fake).send('PUT', '/allocations/x', { body: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlacementError);
    const pe = err as PlacementError;
    expect(pe.status).toBe(409);
    expect(pe.code).toBe('placement.concurrent_update');
    expect(pe.title).toBe('Conflict');
    expect(pe.detail).toBe('consumer generation conflict - expected 1 but got None');
    expect(pe.requestId).toBe('req-fake');
    expect(pe.isConcurrentUpdate).toBe(true);
    expect(pe.message).toContain('PUT /allocations/x');
  });

  it('defaults the code when Placement sends none (e.g. 406 bad microversion)', async () => {
    const fake = new FakePlacement();
    fake.onRequest = () =>
      json(406, { errors: [{ status: 406, title: 'Not Acceptable', detail: 'x\n\n Invalid microversion: 1.99', max_version: '1.39' }] });
    const pe = (await http(fake).send('GET', '/').catch((e: unknown) => e)) as PlacementError;
    expect(pe.code).toBe('placement.undefined_code');
    expect(pe.detail).toBe('Invalid microversion: 1.99');
    expect(pe.isConcurrentUpdate).toBe(false);
  });

  it('keeps a non-JSON error body as the detail', async () => {
    const fake = new FakePlacement();
    fake.onRequest = () => new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' });
    const pe = (await http(fake).send('GET', '/').catch((e: unknown) => e)) as PlacementError;
    expect(pe).toBeInstanceOf(PlacementError);
    expect(pe.status).toBe(502);
    expect(pe.title).toBe('Bad Gateway');
    expect(pe.detail).toContain('bad gateway');
  });

  it('rejects an answer that does not match the schema', async () => {
    const fake = new FakePlacement();
    fake.onRequest = () => json(200, { resource_providers: [{ uuid: 1 }] });
    const client = new PlacementClient({ baseUrl: 'http://p', fetch: fake.fetch });
    const err = await client.listResourceProviders().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlacementProtocolError);
    expect((err as Error).message).toMatch(/resource_providers\.0\.uuid/);
  });

  it('reports an unreachable service as PlacementUnavailableError', async () => {
    const client = new PlacementClient({
      baseUrl: 'http://p',
      fetch: async () => {
        throw new TypeError('fetch failed');
      },
    });
    const err = await client.versions().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlacementUnavailableError);
    expect((err as Error).message).toContain('fetch failed');
  });

  it('tolerates the listed statuses', async () => {
    const fake = new FakePlacement();
    const client = new PlacementClient({ baseUrl: 'http://p', fetch: fake.fetch });
    expect(await client.getResourceProvider('nope')).toBeUndefined();
    expect(await client.deleteAllocations('nobody')).toBe(false);
  });

  it('compares microversions numerically', () => {
    expect(compareMicroversions('1.39', '1.4')).toBe(1);
    expect(compareMicroversions('1.28', '1.28')).toBe(0);
    expect(compareMicroversions('1.9', '1.31')).toBe(-1);
    expect(() => new PlacementHttp({ baseUrl: 'http://p', microversion: 'latest' as `${number}.${number}` })).toThrow(/microversion/);
  });
});
