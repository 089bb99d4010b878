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
    expect(loadWorkerConfig({})).toMatchObject({ FERRY_TASK_QUEUE: 'ferry', FERRY_PLACEMENT_TOKEN: 'admin' });
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
