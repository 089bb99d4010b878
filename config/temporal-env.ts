/**
 * Where Temporal is and how to reach it, read the way every Temporal tool reads it (the SDK's
 * @temporalio/envconfig): TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*,
 * over the profile TEMPORAL_PROFILE (default "default") of the config file TEMPORAL_CONFIG_FILE
 * (default ~/.config/temporalio/temporal.toml). So `temporal` and `ferry` share one configuration.
 *
 * Each value remembers where it came from, so that an error can say where to fix it. The
 * address may stay unset: the caller then falls back to the embedded lab's.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadClientConfigProfile, type ClientConfigProfile, type ClientConfigTLS } from '@temporalio/envconfig';
import { DEFAULT_NAMESPACE } from './temporal-defaults';

/** A configuration that cannot be used; `problems` are one sentence each, naming the setting. */
export class TemporalConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`bad configuration: ${problems.join('; ')}`);
    this.name = 'TemporalConfigError';
  }
}

export interface TemporalSettings {
  /** Undefined when neither the environment nor the profile names one (the caller's fallback applies). */
  address?: string;
  /** 'default' when neither names one, as for every Temporal tool. */
  namespace: string;
  apiKey?: string;
  tls?: ClientConfigTLS;
  grpcMeta?: Record<string, string>;
  /**
   * Which setting chose each value: 'from TEMPORAL_ADDRESS', "from profile 'prod' of /etc/t.toml";
   * for an unset address 'TEMPORAL_ADDRESS unset, …' (the caller says what it falls back to).
   */
  origin: { address: string; namespace: string };
  /** The profile read: its name and file (undefined when there is no config file). */
  profile: { name: string; file?: string };
}

const DEFAULT_PROFILE = 'default';

/** The TEMPORAL_* variables that take a value; an empty one is refused (a script's unset variable, not a choice). */
const VALUE_VARIABLES = [
  'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_API_KEY', 'TEMPORAL_PROFILE', 'TEMPORAL_CONFIG_FILE',
  'TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CLIENT_CERT_DATA', 'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_DATA', 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'TEMPORAL_TLS_SERVER_CA_CERT_DATA',
  'TEMPORAL_TLS_SERVER_NAME',
] as const;
/** The SDK reads anything but 1/true as false; ferry refuses what is neither, so that 'yes' does not turn TLS off. */
const BOOLEAN_VARIABLES = ['TEMPORAL_TLS', 'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION'] as const;

type Env = Readonly<Record<string, string | undefined>>;

export function loadTemporalSettings(env: Env = process.env): TemporalSettings {
  const problems: string[] = [];
  for (const name of VALUE_VARIABLES) if (env[name] !== undefined && env[name]!.trim() === '') problems.push(`${name} is set but empty`);
  for (const name of BOOLEAN_VARIABLES) {
    const v = env[name];
    if (v !== undefined && !['1', '0', 'true', 'false'].includes(v)) problems.push(`${name} must be true, false, 1 or 0, got '${v}'`);
  }
  // Read by the Temporal CLI, dropped by the TypeScript SDK: refused rather than silently verifying anyway.
  if (env.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION === '1' || env.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION === 'true') {
    problems.push('TEMPORAL_TLS_DISABLE_HOST_VERIFICATION is not supported by the TypeScript SDK ferry uses: name the certificate\'s host with TEMPORAL_TLS_SERVER_NAME instead');
  }
  if (problems.length > 0) throw new TemporalConfigError(problems);

  const profileName = env.TEMPORAL_PROFILE ?? DEFAULT_PROFILE;
  const file = configFile(env);
  const fileText = file && readConfigFile(file, problems);
  if (fileText === undefined && env.TEMPORAL_PROFILE !== undefined && problems.length === 0) {
    problems.push(`TEMPORAL_PROFILE=${env.TEMPORAL_PROFILE} but there is no config file (${file ? `${file.path} does not exist` : 'neither TEMPORAL_CONFIG_FILE nor HOME is set'})`);
  }
  if (problems.length > 0) throw new TemporalConfigError(problems);

  const envVars = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
  let fromFile: ClientConfigProfile = {};
  let merged: ClientConfigProfile;
  // The SDK fails with a TypeError on a file with no [profile.*] table at all (say, only comments):
  // that is a file without profiles, as for the Temporal CLI, unless one was asked for.
  const profileless = fileText !== undefined && !hasProfileTable(fileText);
  if (profileless && env.TEMPORAL_PROFILE !== undefined) {
    throw new TemporalConfigError([`TEMPORAL_PROFILE=${env.TEMPORAL_PROFILE} but ${file!.path} has no profiles`]);
  }
  try {
    if (fileText !== undefined && !profileless) {
      fromFile = loadClientConfigProfile({ configSource: { data: fileText }, profile: env.TEMPORAL_PROFILE, disableEnv: true });
      merged = loadClientConfigProfile({ configSource: { data: fileText }, profile: env.TEMPORAL_PROFILE, overrideEnvVars: envVars });
    } else {
      merged = loadClientConfigProfile({ disableFile: true, overrideEnvVars: envVars });
    }
  } catch (err) {
    throw new TemporalConfigError([`Temporal config file ${file!.path}: ${(err as Error).message}`]);
  }

  const inProfile = `profile '${profileName}' of ${file?.path}`;
  const whence = (variable: string, fileValue: unknown) =>
    env[variable] !== undefined
      ? `from ${variable}`
      : fileValue !== undefined
        ? `from ${inProfile}`
        : `${variable} unset${fileText !== undefined ? `, not in ${inProfile}` : `, no Temporal config file${file ? ` ${file.path}` : ''}`}`;
  // The namespace's default is decided here, so its origin says so; the address's is the caller's.
  const namespaceOrigin = whence('TEMPORAL_NAMESPACE', fromFile.namespace);
  const origin = {
    address: whence('TEMPORAL_ADDRESS', fromFile.address),
    namespace: merged.namespace === undefined ? `default; ${namespaceOrigin}` : namespaceOrigin,
  };

  if (merged.address !== undefined && !/^[^\s:/]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(merged.address)) {
    problems.push(`the Temporal address (${origin.address}) must be host:port, got '${merged.address}'`);
  }
  if (merged.namespace !== undefined && merged.namespace.trim() === '') problems.push(`the namespace (${origin.namespace}) is empty`);
  const tls = merged.tls;
  if (tls && (tls.clientCert === undefined) !== (tls.clientKey === undefined)) {
    problems.push(
      `a TLS client certificate and its key go together: TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH (or _DATA), or tls.client_cert_path and tls.client_key_path in the profile`,
    );
  }
  if (problems.length > 0) throw new TemporalConfigError(problems);

  return {
    ...(merged.address !== undefined ? { address: merged.address } : {}),
    namespace: merged.namespace ?? DEFAULT_NAMESPACE,
    ...(merged.apiKey !== undefined ? { apiKey: merged.apiKey } : {}),
    ...(tls !== undefined ? { tls } : {}),
    ...(merged.grpcMeta !== undefined ? { grpcMeta: merged.grpcMeta } : {}),
    origin,
    profile: { name: profileName, ...(fileText !== undefined ? { file: file!.path } : {}) },
  };
}

/** Whether the TOML text has a profile table or dotted profile key (what the SDK indexes into). */
function hasProfileTable(text: string): boolean {
  return /^\s*(\[\s*profile\b|profile\s*[.=])/m.test(text);
}

/** TEMPORAL_CONFIG_FILE, else the standard place (the SDK's and the Temporal CLI's default). */
function configFile(env: Env): { path: string; explicit: boolean } | undefined {
  if (env.TEMPORAL_CONFIG_FILE !== undefined) return { path: env.TEMPORAL_CONFIG_FILE, explicit: true };
  const dir = userConfigDir(env);
  return dir === undefined ? undefined : { path: path.join(dir, 'temporalio', 'temporal.toml'), explicit: false };
}

/** As @temporalio/envconfig finds it (not exported there): the platform's per-user config folder. */
function userConfigDir(env: Env): string | undefined {
  switch (os.platform()) {
    case 'win32':
      return env.APPDATA || undefined;
    case 'darwin':
      return env.HOME ? path.join(env.HOME, 'Library', 'Application Support') : undefined;
    default:
      if (env.XDG_CONFIG_HOME) return path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : undefined;
      return env.HOME ? path.join(env.HOME, '.config') : undefined;
  }
}

/** The file's text; undefined when the standard file does not exist. A named file that is missing is a problem. */
function readConfigFile(file: { path: string; explicit: boolean }, problems: string[]): string | undefined {
  try {
    return fs.readFileSync(file.path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !file.explicit) return undefined;
    problems.push(`${file.explicit ? 'TEMPORAL_CONFIG_FILE=' : 'the Temporal config file '}${file.path} cannot be read: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    return undefined;
  }
}

/**
 * The settings, or undefined with their problems added to `problems`: for a caller that reports
 * every configuration problem (its own and Temporal's) in one error.
 */
export function temporalSettingsOrProblems(env: Env, problems: string[]): TemporalSettings | undefined {
  try {
    return loadTemporalSettings(env);
  } catch (err) {
    if (!(err instanceof TemporalConfigError)) throw err;
    problems.push(...err.problems);
    return undefined;
  }
}
