/** The HTTP seam of the Placement client: headers, microversion, timeouts, error bodies. */
import type { z } from 'zod';
import { PlacementError, PlacementProtocolError, PlacementUnavailableError } from './errors';
import { staticToken, type TokenSource } from './keystone';
import { errorBodySchema } from './schemas';

export type Microversion = `${number}.${number}`;

/** The newest microversion of Placement 8.0.0 (Debian 12) and of current releases. */
export const DEFAULT_MICROVERSION: Microversion = '1.39';

export interface PlacementHttpOptions {
  /** e.g. http://127.0.0.1:8778 (no trailing path). */
  baseUrl: string;
  /** Sent as X-Auth-Token. With `auth_strategy = noauth2`, 'admin' acts as an admin. */
  token?: string;
  /** Where tokens come from instead (Keystone: activities/placement/keystone.ts); wins over `token`. */
  tokens?: TokenSource;
  microversion?: Microversion;
  timeoutMs?: number;
  /** Injected for tests; defaults to Node's global fetch. */
  fetch?: typeof fetch;
}

export interface RequestOptions {
  body?: unknown;
  /** Statuses that do not throw a PlacementError (e.g. 404 on a lookup). */
  tolerate?: number[];
}

/** -1, 0, 1 as a < b, a = b, a > b. */
export function compareMicroversions(a: Microversion, b: Microversion): number {
  const [aMaj, aMin] = a.split('.').map(Number) as [number, number];
  const [bMaj, bMin] = b.split('.').map(Number) as [number, number];
  return Math.sign(aMaj - bMaj || aMin - bMin);
}

export class PlacementHttp {
  readonly baseUrl: string;
  readonly microversion: Microversion;
  private readonly tokens: TokenSource;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(opts: PlacementHttpOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.microversion = opts.microversion ?? DEFAULT_MICROVERSION;
    if (!/^1\.\d+$/.test(this.microversion)) throw new Error(`invalid Placement microversion ${this.microversion}`);
    this.tokens = opts.tokens ?? staticToken(opts.token ?? 'admin');
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.fetchImpl = opts.fetch ?? fetch;
  }

  atLeast(version: Microversion): boolean {
    return compareMicroversions(this.microversion, version) >= 0;
  }

  requireMicroversion(version: Microversion, feature: string): void {
    if (!this.atLeast(version)) {
      throw new Error(`${feature} needs Placement microversion >= ${version}; the client is configured for ${this.microversion}`);
    }
  }

  /** Sends a request whose answer body is not read (204s); returns the status. */
  async send(method: string, path: string, opts: RequestOptions = {}): Promise<number> {
    return (await this.exchange(method, path, opts)).status;
  }

  /** Sends a request and validates its JSON answer with schema. */
  async json<T>(method: string, path: string, schema: z.ZodType<T>, opts: RequestOptions = {}): Promise<T> {
    const { status, text } = await this.exchange(method, path, opts);
    return this.decode(method, path, schema, status, text);
  }

  /** Like json(), but answers undefined for the tolerated statuses (e.g. 404 on a lookup). */
  async jsonOrUndefined<T>(method: string, path: string, schema: z.ZodType<T>, tolerate: number[]): Promise<T | undefined> {
    const { status, text, tolerated } = await this.exchange(method, path, { tolerate });
    return tolerated ? undefined : this.decode(method, path, schema, status, text);
  }

  private async exchange(
    method: string,
    path: string,
    opts: RequestOptions,
    retriedAuth = false,
  ): Promise<{ status: number; text: string; tolerated: boolean }> {
    const url = this.baseUrl + path;
    let token: string;
    try {
      token = await this.tokens.token();
    } catch (err) {
      // Keystone down or refusing: Placement cannot be asked either (retried like Placement being down).
      throw new PlacementUnavailableError(method, url, err);
    }
    const headers: Record<string, string> = {
      'X-Auth-Token': token,
      'OpenStack-API-Version': `placement ${this.microversion}`,
      Accept: 'application/json',
    };
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    let res: Response;
    let text: string;
    try {
      res = await this.fetchImpl(url, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      throw new PlacementUnavailableError(method, url, err);
    }
    if (res.status === 401 && !retriedAuth) {
      // A token revoked or expired early: once more with a fresh one (a fixed token gets the same 401).
      this.tokens.invalidate();
      return this.exchange(method, path, opts, true);
    }
    if (res.ok) return { status: res.status, text, tolerated: false };
    if (opts.tolerate?.includes(res.status)) return { status: res.status, text, tolerated: true };
    throw parseError(method, path, res.status, res.statusText, text);
  }

  private decode<T>(method: string, path: string, schema: z.ZodType<T>, status: number, text: string): T {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new PlacementProtocolError(method, path, `status ${status} with a non-JSON body: ${text.slice(0, 200)}`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      throw new PlacementProtocolError(method, path, issues);
    }
    return parsed.data;
  }
}

/** Builds a PlacementError from Placement's JSON error body, falling back to the raw text. */
export function parseError(method: string, path: string, status: number, statusText: string, text: string): PlacementError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const parsed = errorBodySchema.safeParse(body);
  if (parsed.success) {
    const e = parsed.data.errors[0]!;
    return new PlacementError(
      e.status ?? status,
      e.code ?? 'placement.undefined_code',
      e.title ?? statusText,
      cleanDetail(e.detail ?? ''),
      method,
      path,
      e.request_id,
    );
  }
  return new PlacementError(status, 'placement.undefined_code', statusText, cleanDetail(text.slice(0, 500)), method, path);
}

/** Placement prefixes every detail with a generic sentence and pads it with blank lines. */
function cleanDetail(detail: string): string {
  const parts = detail.split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean);
  return (parts.length > 1 ? parts.slice(1).join(' ') : (parts[0] ?? '')).replace(/\s+/g, ' ');
}
