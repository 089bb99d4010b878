/**
 * A Placement behind Keystone: the worker's settings (a fixed token, or an application credential
 * with its secret given one way), the token exchanged once and reused, renewed before it expires
 * and after Placement refuses it, Placement's endpoint from the catalog, and the secret and the
 * tokens never in an error message. Keystone and Placement are fakes behind an injected fetch.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PlacementClient } from '../../../activities/placement';
import { ApplicationCredentialTokens } from '../../../activities/placement/keystone';
import { loadWorkerConfig } from '../../../worker/config';
import { placementTokens } from '../../../worker/placement-auth';

const SECRET = 'app-cred-secret-2f9c';
const CRED = { FERRY_KEYSTONE_URL: 'https://keystone.test:5000/v3', FERRY_KEYSTONE_APP_CRED_ID: 'cred-1' };

/** Keystone issuing token-1, token-2, … valid for `lifetimeMs`, and a Placement that accepts only the tokens not revoked. */
function fakeCloud(opts: { lifetimeMs?: number; now?: () => number; refuseCredential?: boolean } = {}) {
  const issued: string[] = [];
  const revoked = new Set<string>();
  const seenByPlacement: string[] = [];
  const now = opts.now ?? Date.now;
  const fetchImpl = (async (url: string | URL, init?: RequestInit) => {
    const u = String(url);
    if (u.startsWith('https://keystone.test:5000/v3/auth/tokens')) {
      const body = JSON.parse(String(init!.body));
      const cred = body.auth.identity.application_credential;
      if (opts.refuseCredential || cred.id !== 'cred-1' || cred.secret !== SECRET) {
        return new Response(JSON.stringify({ error: { code: 401, message: `The request you have made requires authentication.` } }), { status: 401 });
      }
      const token = `token-${issued.length + 1}`;
      issued.push(token);
      return new Response(JSON.stringify({
        token: {
          expires_at: new Date(now() + (opts.lifetimeMs ?? 3_600_000)).toISOString(),
          catalog: [{ type: 'placement', endpoints: [{ interface: 'internal', url: 'http://placement.internal:8778' }, { interface: 'public', url: 'https://placement.test' }] }],
        },
      }), { status: 201, headers: { 'X-Subject-Token': token } });
    }
    if (u.startsWith('https://placement.test/')) {
      const token = new Headers(init!.headers).get('x-auth-token')!;
      seenByPlacement.push(token);
      if (!issued.includes(token) || revoked.has(token)) {
        return new Response(JSON.stringify({ errors: [{ status: 401, code: 'placement.undefined_code', title: 'Unauthorized', detail: 'The request you have made requires authentication.' }] }), { status: 401 });
      }
      return new Response(JSON.stringify({ resource_providers: [] }), { status: 200 });
    }
    throw new Error(`unexpected request to ${u}`);
  }) as typeof fetch;
  return { fetchImpl, issued, revoked, seenByPlacement };
}

describe("the worker's Placement credentials", () => {
  it('a fixed token, or a complete application credential; what does not fit is named, never its value', () => {
    expect(loadWorkerConfig({ FERRY_PLACEMENT_TOKEN: 'tok' }).FERRY_PLACEMENT_TOKEN).toBe('tok');
    expect(loadWorkerConfig({ ...CRED, FERRY_KEYSTONE_APP_CRED_SECRET: SECRET })).toMatchObject(CRED);
    const err = (env: Record<string, string>) => { try { loadWorkerConfig(env); return ''; } catch (e) { return (e as Error).message; } };
    expect(err({ ...CRED })).toMatch(/secret is missing: set FERRY_KEYSTONE_APP_CRED_SECRET or FERRY_KEYSTONE_APP_CRED_SECRET_FILE/);
    expect(err({ FERRY_KEYSTONE_APP_CRED_ID: 'cred-1', FERRY_KEYSTONE_APP_CRED_SECRET: SECRET })).toMatch(/FERRY_KEYSTONE_URL is missing/);
    const both = err({ ...CRED, FERRY_KEYSTONE_APP_CRED_SECRET: SECRET, FERRY_PLACEMENT_TOKEN: 'tok-77' });
    expect(both).toMatch(/FERRY_PLACEMENT_TOKEN and FERRY_KEYSTONE_\* are exclusive/);
    expect(both).not.toContain(SECRET);
    expect(both).not.toContain('tok-77');
    expect(err({ ...CRED, FERRY_KEYSTONE_APP_CRED_SECRET_FILE: '/nonexistent/secret' })).toMatch(/FERRY_KEYSTONE_APP_CRED_SECRET_FILE names \/nonexistent\/secret, which does not exist/);
  });

  it('the secret may come from a file (a mounted secret): read and trimmed', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-ks-'));
    const file = path.join(dir, 'secret');
    fs.writeFileSync(file, `${SECRET}\n`);
    try {
      const cloud = fakeCloud();
      const tokens = placementTokens(loadWorkerConfig({ ...CRED, FERRY_KEYSTONE_APP_CRED_SECRET_FILE: file }), cloud.fetchImpl);
      expect(await tokens.token()).toBe('token-1');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('tokens from an application credential', () => {
  it('one exchange for many requests, even concurrent ones; Placement gets the token; its endpoint from the catalog', async () => {
    const cloud = fakeCloud();
    const tokens = placementTokens({ ...CRED, FERRY_KEYSTONE_APP_CRED_SECRET: SECRET }, cloud.fetchImpl);
    expect(await tokens.placementEndpoint!()).toBe('https://placement.test');
    const p = new PlacementClient({ baseUrl: 'https://placement.test', tokens, fetch: cloud.fetchImpl });
    await Promise.all([p.listResourceProviders(), p.listResourceProviders(), p.listResourceProviders()]);
    expect(cloud.issued).toEqual(['token-1']);
    expect(cloud.seenByPlacement).toEqual(['token-1', 'token-1', 'token-1']);
  });

  it('renewed a minute before it expires, and at once when Placement refuses it (revoked)', async () => {
    let t = Date.parse('2026-12-01T00:00:00Z');
    const cloud = fakeCloud({ lifetimeMs: 10 * 60_000, now: () => t });
    const tokens = new ApplicationCredentialTokens({ authUrl: CRED.FERRY_KEYSTONE_URL, id: 'cred-1', secret: SECRET, fetch: cloud.fetchImpl, now: () => t });
    const p = new PlacementClient({ baseUrl: 'https://placement.test', tokens, fetch: cloud.fetchImpl });
    await p.listResourceProviders();
    t += 8 * 60_000;
    await p.listResourceProviders();
    expect(cloud.issued).toEqual(['token-1']);
    t += 61_000; // less than a minute left
    await p.listResourceProviders();
    expect(cloud.issued).toEqual(['token-1', 'token-2']);
    cloud.revoked.add('token-2');
    await p.listResourceProviders();
    expect(cloud.issued).toEqual(['token-1', 'token-2', 'token-3']);
    expect(cloud.seenByPlacement.slice(-2)).toEqual(['token-2', 'token-3']);
  });

  it('a refused credential is an error naming the credential, never its secret nor a token', async () => {
    const cloud = fakeCloud({ refuseCredential: true });
    const tokens = placementTokens({ ...CRED, FERRY_KEYSTONE_APP_CRED_SECRET: SECRET }, cloud.fetchImpl);
    const p = new PlacementClient({ baseUrl: 'https://placement.test', tokens, fetch: cloud.fetchImpl });
    const err = await p.listResourceProviders().then(() => undefined, (e: Error) => e);
    expect(err?.name).toBe('PlacementUnavailableError');
    expect(err?.message).toMatch(/refused application credential cred-1 \(401\)/);
    expect(err?.message).not.toContain(SECRET);
  });

  it('a fixed token refused by Placement is tried once more, then the refusal is reported', async () => {
    const cloud = fakeCloud();
    const p = new PlacementClient({ baseUrl: 'https://placement.test', token: 'not-a-keystone-token', fetch: cloud.fetchImpl });
    const err = await p.listResourceProviders().then(() => undefined, (e: Error) => e);
    expect(cloud.seenByPlacement).toEqual(['not-a-keystone-token', 'not-a-keystone-token']);
    expect(err?.message).toMatch(/401/);
    expect(err?.message).not.toContain('not-a-keystone-token');
  });
});
