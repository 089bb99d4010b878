/**
 * Temporal's configuration as every Temporal tool reads it (@temporalio/envconfig): variables
 * over the profile of the config file; each value says where it came from; bad settings are one
 * error naming each. Files are temp files; the environment is passed in (never the test's own).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { temporalConnectionOptions } from '../../../config/temporal-connection';
import { loadTemporalSettings, TemporalConfigError } from '../../../config/temporal-env';

let dir = '';
let toml = '';
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-temporal-env-'));
  toml = path.join(dir, 'temporal.toml');
  fs.writeFileSync(path.join(dir, 'ca.pem'), 'CA PEM');
  fs.writeFileSync(
    toml,
    [
      '[profile.default]',
      'address = "profile-default.example:7233"',
      'namespace = "from-profile"',
      '',
      '[profile.prod]',
      'address = "prod.example:7233"',
      'api_key = "secret"',
      '[profile.prod.tls]',
      `server_ca_cert_path = "${path.join(dir, 'ca.pem')}"`,
      'server_name = "prod.internal"',
      '',
      '[profile.nothing]',
      '',
    ].join('\n'),
  );
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const problems = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (err) {
    if (err instanceof TemporalConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a TemporalConfigError');
};

describe('precedence: TEMPORAL_* variables > the profile > unset (the caller falls back to the lab)', () => {
  it('nothing anywhere: no address (the caller decides), namespace "default", and both say why', () => {
    const s = loadTemporalSettings({});
    expect(s.address).toBeUndefined();
    expect(s.namespace).toBe('default');
    expect(s.origin).toEqual({
      address: 'TEMPORAL_ADDRESS unset, no Temporal config file',
      namespace: 'default; TEMPORAL_NAMESPACE unset, no Temporal config file',
    });
  });

  it('the standard file under HOME (~/.config/temporalio/temporal.toml) when it does not exist is no file', () => {
    const s = loadTemporalSettings({ HOME: dir });
    expect(s.address).toBeUndefined();
    expect(s.origin.address).toBe(`TEMPORAL_ADDRESS unset, no Temporal config file ${path.join(dir, '.config', 'temporalio', 'temporal.toml')}`);
  });

  it('the standard file under XDG_CONFIG_HOME is read, its default profile', () => {
    const xdg = path.join(dir, 'xdg');
    fs.mkdirSync(path.join(xdg, 'temporalio'), { recursive: true });
    fs.copyFileSync(toml, path.join(xdg, 'temporalio', 'temporal.toml'));
    const s = loadTemporalSettings({ XDG_CONFIG_HOME: xdg });
    expect(s.address).toBe('profile-default.example:7233');
    expect(s.origin.address).toBe(`from profile 'default' of ${path.join(xdg, 'temporalio', 'temporal.toml')}`);
  });

  it('the profile gives what the variables do not', () => {
    const s = loadTemporalSettings({ TEMPORAL_CONFIG_FILE: toml });
    expect(s).toMatchObject({ address: 'profile-default.example:7233', namespace: 'from-profile', profile: { name: 'default', file: toml } });
    expect(s.origin).toEqual({ address: `from profile 'default' of ${toml}`, namespace: `from profile 'default' of ${toml}` });
  });

  it('a variable wins over the profile, value by value', () => {
    const s = loadTemporalSettings({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_ADDRESS: 'env.example:7233' });
    expect(s).toMatchObject({ address: 'env.example:7233', namespace: 'from-profile' });
    expect(s.origin).toEqual({ address: 'from TEMPORAL_ADDRESS', namespace: `from profile 'default' of ${toml}` });
  });

  it('TEMPORAL_PROFILE picks the profile; what it lacks stays unset and says so', () => {
    const s = loadTemporalSettings({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod' });
    expect(s).toMatchObject({ address: 'prod.example:7233', namespace: 'default', apiKey: 'secret', profile: { name: 'prod', file: toml } });
    expect(s.origin.namespace).toBe(`default; TEMPORAL_NAMESPACE unset, not in profile 'prod' of ${toml}`);
    const none = loadTemporalSettings({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'nothing' });
    expect(none.address).toBeUndefined();
    expect(none.origin.address).toBe(`TEMPORAL_ADDRESS unset, not in profile 'nothing' of ${toml}`);
  });

  it("the profile's TLS and API key become the connection's; a variable adds to the profile's TLS", () => {
    const s = loadTemporalSettings({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod', TEMPORAL_TLS_SERVER_NAME: 'override.internal' });
    const c = temporalConnectionOptions(s, s.address!);
    expect(c).toMatchObject({ address: 'prod.example:7233', apiKey: 'secret', tls: { serverNameOverride: 'override.internal' } });
    expect(Buffer.from((c.tls as { serverRootCACertificate: Uint8Array }).serverRootCACertificate).toString()).toBe('CA PEM');
  });

  it('an API key alone turns TLS on; TEMPORAL_TLS=false turns it off; nothing leaves it unset', () => {
    expect(temporalConnectionOptions(loadTemporalSettings({ TEMPORAL_API_KEY: 'k' }), 'a:1').tls).toBe(true);
    expect(temporalConnectionOptions(loadTemporalSettings({ TEMPORAL_TLS: 'false' }), 'a:1').tls).toBe(false);
    expect(temporalConnectionOptions(loadTemporalSettings({}), 'a:1')).toEqual({ address: 'a:1' });
  });
});

describe('bad Temporal settings: one error naming each, nothing read half', () => {
  it('a TEMPORAL_CONFIG_FILE that does not exist (a typo must not silently mean "no profile")', () => {
    expect(problems(() => loadTemporalSettings({ TEMPORAL_CONFIG_FILE: path.join(dir, 'nope.toml') }))).toEqual([
      `TEMPORAL_CONFIG_FILE=${path.join(dir, 'nope.toml')} cannot be read: no such file`,
    ]);
  });

  it('a TEMPORAL_PROFILE the file does not have, or with no file at all', () => {
    expect(problems(() => loadTemporalSettings({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'staging' }))).toEqual([
      `Temporal config file ${toml}: Profile 'staging' not found in config data`,
    ]);
    expect(problems(() => loadTemporalSettings({ TEMPORAL_PROFILE: 'prod' }))).toEqual([
      'TEMPORAL_PROFILE=prod but there is no config file (neither TEMPORAL_CONFIG_FILE nor HOME is set)',
    ]);
  });

  it('a file without profiles (only comments) is no profile; asking for one there is an error', () => {
    const empty = path.join(dir, 'empty.toml');
    fs.writeFileSync(empty, '# profiles come later\n');
    const s = loadTemporalSettings({ TEMPORAL_CONFIG_FILE: empty, TEMPORAL_ADDRESS: 'a.example:7233' });
    expect(s).toMatchObject({ address: 'a.example:7233', namespace: 'default' });
    expect(s.origin.namespace).toBe(`default; TEMPORAL_NAMESPACE unset, not in profile 'default' of ${empty}`);
    expect(problems(() => loadTemporalSettings({ TEMPORAL_CONFIG_FILE: empty, TEMPORAL_PROFILE: 'prod' }))).toEqual([
      `TEMPORAL_PROFILE=prod but ${empty} has no profiles`,
    ]);
  });

  it('a file that is not TOML names the file', () => {
    const bad = path.join(dir, 'bad.toml');
    fs.writeFileSync(bad, '[profile.default\naddress = ');
    const [problem] = problems(() => loadTemporalSettings({ TEMPORAL_CONFIG_FILE: bad }));
    expect(problem).toMatch(new RegExp(`^Temporal config file ${bad}: `));
  });

  it('empty variables, booleans that are not booleans, an address that is not host:port, a certificate without its key', () => {
    expect(problems(() => loadTemporalSettings({ TEMPORAL_ADDRESS: '', TEMPORAL_TLS: 'yes' }))).toEqual([
      'TEMPORAL_ADDRESS is set but empty',
      "TEMPORAL_TLS must be true, false, 1 or 0, got 'yes'",
    ]);
    expect(problems(() => loadTemporalSettings({ TEMPORAL_ADDRESS: 'http://t.example', TEMPORAL_TLS_CLIENT_CERT_PATH: '/c.pem' }))).toEqual([
      "the Temporal address (from TEMPORAL_ADDRESS) must be host:port, got 'http://t.example'",
      'a TLS client certificate and its key go together: TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH (or _DATA), ' +
        'or tls.client_cert_path and tls.client_key_path in the profile',
    ]);
  });

  it('host verification cannot be turned off (the SDK would ignore it): refused, naming the way that works', () => {
    expect(problems(() => loadTemporalSettings({ TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'true' }))).toEqual([
      "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION is not supported by the TypeScript SDK ferry uses: name the certificate's host with TEMPORAL_TLS_SERVER_NAME instead",
    ]);
    expect(loadTemporalSettings({ TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'false' }).address).toBeUndefined();
  });

  it('a TLS file that cannot be read names the file and the settings that name it', () => {
    const s = loadTemporalSettings({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'missing-ca.pem') });
    expect(() => temporalConnectionOptions(s, 'a:1')).toThrow(
      `the TLS server CA certificate ${path.join(dir, 'missing-ca.pem')} (TEMPORAL_TLS_SERVER_CA_CERT_PATH or tls.server_ca_cert_path) cannot be read`,
    );
  });
});
