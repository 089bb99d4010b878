// ferry-env: names retired variables on purpose (the registry scan in test/unit/config skips this file).
/**
 * The worker's configuration: ferry's own FERRY_* settings (zod), Temporal's through envconfig,
 * and the address's precedence TEMPORAL_ADDRESS > the profile > the running lab > the lab's
 * default port, each saying where it came from.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWorkerConfig } from '../../../worker/config';
import { chooseTemporalAddress } from '../../../worker/temporal-address';

let dir = '';
let toml = '';
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-worker-config-'));
  toml = path.join(dir, 'temporal.toml');
  fs.writeFileSync(toml, '[profile.default]\naddress = "profile.example:7233"\nnamespace = "fleet"\n');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const LAB = { describe: "the lab's state /x/.lab/lab.json", address: '127.0.0.1:17233' };

describe("the worker's Temporal address: TEMPORAL_ADDRESS > profile > the running lab > the lab's default", () => {
  it('TEMPORAL_ADDRESS wins over the profile and the lab', () => {
    const c = loadWorkerConfig({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_ADDRESS: 'env.example:7233' });
    expect(chooseTemporalAddress(c.temporal, LAB)).toEqual({ address: 'env.example:7233', from: 'from TEMPORAL_ADDRESS' });
    expect(c.temporal.namespace).toBe('fleet');
  });

  it('the profile wins over the lab', () => {
    const c = loadWorkerConfig({ TEMPORAL_CONFIG_FILE: toml });
    expect(chooseTemporalAddress(c.temporal, LAB)).toEqual({ address: 'profile.example:7233', from: `from profile 'default' of ${toml}` });
  });

  it('nothing configured: the running lab, saying that nothing named another', () => {
    const c = loadWorkerConfig({});
    expect(chooseTemporalAddress(c.temporal, LAB)).toEqual({
      address: '127.0.0.1:17233',
      from: "from the lab's state /x/.lab/lab.json; TEMPORAL_ADDRESS unset, no Temporal config file",
    });
  });

  it("nothing configured and no lab running: the lab's default port, saying so", () => {
    const c = loadWorkerConfig({});
    expect(chooseTemporalAddress(c.temporal)).toEqual({ address: '127.0.0.1:7233', from: "default, the lab's; TEMPORAL_ADDRESS unset, no Temporal config file" });
    expect(chooseTemporalAddress(c.temporal, { describe: LAB.describe })).toEqual({
      address: '127.0.0.1:7233',
      from: "default, the lab's; TEMPORAL_ADDRESS unset, no Temporal config file; the lab's state /x/.lab/lab.json names none running",
    });
  });
});

describe("the worker's own settings", () => {
  it('defaults, and values as given', () => {
    expect(loadWorkerConfig({})).toMatchObject({ FERRY_TASK_QUEUE: 'ferry' });
    expect(loadWorkerConfig({}).FERRY_PLACEMENT_TOKEN).toBeUndefined(); // "admin" is placementTokens' default
    expect(loadWorkerConfig({ FERRY_HOSTS_FILE: '/etc/ferry/hosts.json', FERRY_PLACEMENT_URL: 'http://placement:8778' })).toMatchObject({
      FERRY_HOSTS_FILE: '/etc/ferry/hosts.json',
      FERRY_PLACEMENT_URL: 'http://placement:8778',
    });
  });

  it('every problem in one error: an unknown FERRY_* variable (with what it meant), a bad URL, a bad Temporal setting', () => {
    expect(() =>
      loadWorkerConfig({ FERRY_HOST_FILE: 'h.json', FERRY_TEMPORAL_NAMESPACE: 'x', FERRY_PLACEMENT_URL: 'placement:8778', TEMPORAL_TLS: 'maybe' }),
    ).toThrow(
      'invalid worker configuration: FERRY_HOST_FILE: unknown; did you mean FERRY_HOSTS_FILE?; ' +
        "FERRY_TEMPORAL_NAMESPACE is not a ferry setting: Temporal's own TEMPORAL_NAMESPACE is read instead; " +
        'FERRY_PLACEMENT_URL must be an http(s) URL such as http://placement.example:8778; ' +
        "TEMPORAL_TLS must be true, false, 1 or 0, got 'maybe'",
    );
  });

  it('an empty task queue is refused', () => {
    expect(() => loadWorkerConfig({ FERRY_TASK_QUEUE: ' ' })).toThrow('invalid worker configuration: FERRY_TASK_QUEUE is set but empty');
  });
});

describe("the worker's metrics endpoint (FERRY_METRICS_ADDRESS)", () => {
  it('defaults to loopback port 9464; IPv4 and bracketed IPv6 addresses as given; off means none', () => {
    expect(loadWorkerConfig({}).FERRY_METRICS_ADDRESS).toBe('127.0.0.1:9464');
    expect(loadWorkerConfig({ FERRY_METRICS_ADDRESS: '0.0.0.0:9100' }).FERRY_METRICS_ADDRESS).toBe('0.0.0.0:9100');
    expect(loadWorkerConfig({ FERRY_METRICS_ADDRESS: '[::1]:9100' }).FERRY_METRICS_ADDRESS).toBe('[::1]:9100');
    expect(loadWorkerConfig({ FERRY_METRICS_ADDRESS: 'off' }).FERRY_METRICS_ADDRESS).toBeUndefined();
  });

  it.each([
    ['localhost:9464', '"localhost" is no IPv4 address'],
    ['9464', '(got "9464")'],
    ['127.0.0.1', '(got "127.0.0.1")'],
    ['127.0.0.1:70000', 'port 70000 is outside 1-65535'],
    ['127.0.0.1:0', 'port 0 is outside 1-65535'],
    ['[127.0.0.1]:9464', '"127.0.0.1" is no IPv6 address'],
    ['::1:9464', '(got "::1:9464")'],
  ])('refuses %s, naming the variable and what is allowed', (value, why) => {
    const err = (() => {
      try {
        loadWorkerConfig({ FERRY_METRICS_ADDRESS: value });
      } catch (e) {
        return (e as Error).message;
      }
      return 'accepted';
    })();
    expect(err).toContain("FERRY_METRICS_ADDRESS must be IP:PORT (e.g. 127.0.0.1:9464, 0.0.0.0:9464, [::1]:9464) or 'off'");
    expect(err).toContain(why);
  });
});

describe("the worker's log level (FERRY_LOG_LEVEL)", () => {
  it('defaults to INFO; any case accepted; anything else refused naming what is allowed', () => {
    expect(loadWorkerConfig({}).FERRY_LOG_LEVEL).toBe('INFO');
    expect(loadWorkerConfig({ FERRY_LOG_LEVEL: 'debug' }).FERRY_LOG_LEVEL).toBe('DEBUG');
    expect(() => loadWorkerConfig({ FERRY_LOG_LEVEL: 'verbose' })).toThrow('FERRY_LOG_LEVEL must be one of TRACE, DEBUG, INFO, WARN, ERROR');
  });
});
