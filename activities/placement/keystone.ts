/**
 * Tokens for a Placement behind Keystone: an application credential (what OpenStack recommends
 * for services: scoped, revocable, no user password) exchanged for a token at Keystone's
 * POST /v3/auth/tokens. The token is kept until shortly before it expires, and dropped when
 * Placement answers 401 (revoked, or Keystone restarted with new keys), so the next request asks
 * again. Neither the secret nor a token ever goes into an error message or a log line.
 */
import { z } from 'zod';

export interface TokenSource {
  /** A token to send as X-Auth-Token. */
  token(): Promise<string>;
  /** Placement refused the token: forget it, the next token() asks Keystone again. */
  invalidate(): void;
  /** Placement's endpoint from the token's catalog, when the configuration names none. */
  placementEndpoint?(): Promise<string | undefined>;
}

/** A fixed token from the configuration (FERRY_PLACEMENT_TOKEN; noauth2's "admin" in the lab). */
export function staticToken(token: string): TokenSource {
  return { token: async () => token, invalidate: () => undefined };
}

export interface ApplicationCredential {
  /** Keystone's identity endpoint, e.g. https://keystone.example:5000 (with or without /v3). */
  authUrl: string;
  id: string;
  secret: string;
  /** Catalog interface for the Placement endpoint (default public). */
  interface?: 'public' | 'internal' | 'admin';
  fetch?: typeof fetch;
  now?: () => number;
  timeoutMs?: number;
}

const TokenBodySchema = z.object({
  token: z.object({
    expires_at: z.string(),
    catalog: z.array(z.object({
      type: z.string(),
      endpoints: z.array(z.object({ interface: z.string(), url: z.string() })),
    })).optional(),
  }),
});

/** Refresh this long before the expiry Keystone gave: a request in flight must not carry a dead token. */
const EARLY_MS = 60_000;

export class KeystoneError extends Error {
  override name = 'KeystoneError';
}

export class ApplicationCredentialTokens implements TokenSource {
  private cached: { token: string; expiresAt: number; placement: string | undefined } | undefined;
  private inflight: Promise<{ token: string; expiresAt: number; placement: string | undefined }> | undefined;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;

  constructor(private readonly cred: ApplicationCredential) {
    this.fetchImpl = cred.fetch ?? fetch;
    this.now = cred.now ?? Date.now;
  }

  async token(): Promise<string> {
    return (await this.current()).token;
  }

  invalidate(): void {
    this.cached = undefined;
  }

  async placementEndpoint(): Promise<string | undefined> {
    return (await this.current()).placement;
  }

  private async current() {
    if (this.cached && this.now() < this.cached.expiresAt - EARLY_MS) return this.cached;
    // One request to Keystone however many callers wait for the token.
    this.inflight ??= this.issue().finally(() => { this.inflight = undefined; });
    this.cached = await this.inflight;
    return this.cached;
  }

  private async issue() {
    const base = this.cred.authUrl.replace(/\/+$/, '').replace(/\/v3$/, '');
    const url = `${base}/v3/auth/tokens`;
    let res: Response;
    let text: string;
    try {
      res = await this.fetchImpl(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ auth: { identity: { methods: ['application_credential'], application_credential: { id: this.cred.id, secret: this.cred.secret } } } }),
        signal: AbortSignal.timeout(this.cred.timeoutMs ?? 10_000),
      });
      text = await res.text();
    } catch (err) {
      throw new KeystoneError(`Keystone at ${url} did not answer: ${(err as Error).message}`);
    }
    if (res.status === 401) {
      throw new KeystoneError(`Keystone at ${url} refused application credential ${this.cred.id} (401): check FERRY_KEYSTONE_APP_CRED_ID and its secret, and that it is not expired or deleted`);
    }
    if (!res.ok) throw new KeystoneError(`Keystone at ${url} answered ${res.status} ${res.statusText} to the token request`);
    const token = res.headers.get('x-subject-token');
    if (!token) throw new KeystoneError(`Keystone at ${url} issued no X-Subject-Token header`);
    let body;
    try {
      body = TokenBodySchema.parse(JSON.parse(text));
    } catch {
      throw new KeystoneError(`Keystone at ${url} answered a token without a readable expires_at`);
    }
    const expiresAt = Date.parse(body.token.expires_at);
    if (!Number.isFinite(expiresAt)) throw new KeystoneError(`Keystone at ${url} answered an unreadable expires_at`);
    const wanted = this.cred.interface ?? 'public';
    const placement = body.token.catalog?.find((s) => s.type === 'placement')?.endpoints.find((e) => e.interface === wanted)?.url;
    return { token, expiresAt, placement };
  }
}
