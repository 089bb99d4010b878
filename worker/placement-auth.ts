/**
 * How the worker authenticates to Placement, from its settings: a fixed token
 * (FERRY_PLACEMENT_TOKEN; the lab's noauth2 takes "admin", the default), or a Placement behind
 * Keystone with an application credential (FERRY_KEYSTONE_URL, FERRY_KEYSTONE_APP_CRED_ID and
 * its secret, from FERRY_KEYSTONE_APP_CRED_SECRET or a file named by
 * FERRY_KEYSTONE_APP_CRED_SECRET_FILE). With Keystone and no FERRY_PLACEMENT_URL, Placement's
 * endpoint comes from the token's catalog.
 */
import fs from 'node:fs';
import { ApplicationCredentialTokens, staticToken, type TokenSource } from '../activities/placement/keystone';

export interface PlacementAuthSettings {
  FERRY_PLACEMENT_TOKEN?: string | undefined;
  FERRY_KEYSTONE_URL?: string | undefined;
  FERRY_KEYSTONE_APP_CRED_ID?: string | undefined;
  FERRY_KEYSTONE_APP_CRED_SECRET?: string | undefined;
  FERRY_KEYSTONE_APP_CRED_SECRET_FILE?: string | undefined;
}

/** What does not fit together, each naming the variables (never their values). */
export function placementAuthProblems(s: PlacementAuthSettings): string[] {
  const problems: string[] = [];
  const keystone = [s.FERRY_KEYSTONE_URL, s.FERRY_KEYSTONE_APP_CRED_ID, s.FERRY_KEYSTONE_APP_CRED_SECRET, s.FERRY_KEYSTONE_APP_CRED_SECRET_FILE].some((v) => v !== undefined);
  if (!keystone) return problems;
  if (s.FERRY_PLACEMENT_TOKEN !== undefined) problems.push('FERRY_PLACEMENT_TOKEN and FERRY_KEYSTONE_* are exclusive: a fixed token, or tokens from Keystone');
  if (s.FERRY_KEYSTONE_URL === undefined) problems.push('FERRY_KEYSTONE_URL is missing: the Keystone endpoint the application credential is exchanged at');
  if (s.FERRY_KEYSTONE_APP_CRED_ID === undefined) problems.push('FERRY_KEYSTONE_APP_CRED_ID is missing: the application credential\'s id');
  const secrets = [s.FERRY_KEYSTONE_APP_CRED_SECRET, s.FERRY_KEYSTONE_APP_CRED_SECRET_FILE].filter((v) => v !== undefined).length;
  if (secrets === 0) problems.push('the application credential\'s secret is missing: set FERRY_KEYSTONE_APP_CRED_SECRET or FERRY_KEYSTONE_APP_CRED_SECRET_FILE');
  if (secrets === 2) problems.push('FERRY_KEYSTONE_APP_CRED_SECRET and FERRY_KEYSTONE_APP_CRED_SECRET_FILE are exclusive: give the secret one way');
  if (s.FERRY_KEYSTONE_APP_CRED_SECRET_FILE !== undefined && !fs.existsSync(s.FERRY_KEYSTONE_APP_CRED_SECRET_FILE)) {
    problems.push(`FERRY_KEYSTONE_APP_CRED_SECRET_FILE names ${s.FERRY_KEYSTONE_APP_CRED_SECRET_FILE}, which does not exist`);
  }
  return problems;
}

/** The worker's token source (settings already checked by placementAuthProblems). */
export function placementTokens(s: PlacementAuthSettings, fetchImpl?: typeof fetch): TokenSource {
  if (s.FERRY_KEYSTONE_URL === undefined) return staticToken(s.FERRY_PLACEMENT_TOKEN ?? 'admin');
  const secret = s.FERRY_KEYSTONE_APP_CRED_SECRET ?? fs.readFileSync(s.FERRY_KEYSTONE_APP_CRED_SECRET_FILE!, 'utf8').trim();
  return new ApplicationCredentialTokens({ authUrl: s.FERRY_KEYSTONE_URL, id: s.FERRY_KEYSTONE_APP_CRED_ID!, secret, ...(fetchImpl ? { fetch: fetchImpl } : {}) });
}
