// ferry-env: names retired variables on purpose (the scan below skips files with this line).
/**
 * ferry's FERRY_* variables: one registry; an unknown one is refused with the name it probably
 * meant; and every FERRY_* variable the code reads is in the registry (so a new setting cannot be
 * refused at start by the very check that guards it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FERRY_VARIABLES, REPLACED_BY_TEMPORAL, unknownFerryVariables } from '../../../config/ferry-env';

const root = path.resolve(__dirname, '../../..');

describe('unknown FERRY_* variables', () => {
  it('the retired Temporal ones name the TEMPORAL_* variable read instead', () => {
    expect(unknownFerryVariables({ FERRY_TEMPORAL_ADDRESS: 'x:1' })).toEqual([
      "FERRY_TEMPORAL_ADDRESS is not a ferry setting: Temporal's own TEMPORAL_ADDRESS is read instead",
    ]);
    expect(unknownFerryVariables({ FERRY_TEMPORAL_TLS_CERT: 'c.pem' })).toEqual([
      "FERRY_TEMPORAL_TLS_CERT is not a ferry setting: Temporal's own TEMPORAL_TLS_CLIENT_CERT_PATH is read instead",
    ]);
    expect(Object.keys(REPLACED_BY_TEMPORAL).sort()).toEqual([
      'FERRY_TEMPORAL_ADDRESS', 'FERRY_TEMPORAL_NAMESPACE', 'FERRY_TEMPORAL_TLS', 'FERRY_TEMPORAL_TLS_CA', 'FERRY_TEMPORAL_TLS_CERT', 'FERRY_TEMPORAL_TLS_KEY',
    ]);
  });

  it('a typo names the known variable it is closest to', () => {
    expect(unknownFerryVariables({ FERRY_HOST_FILE: 'h.json' })).toEqual(['FERRY_HOST_FILE: unknown; did you mean FERRY_HOSTS_FILE?']);
    expect(unknownFerryVariables({ FERRY_PLACEMNET_URL: 'http://p' })).toEqual(['FERRY_PLACEMNET_URL: unknown; did you mean FERRY_PLACEMENT_URL?']);
    expect(unknownFerryVariables({ FERRY_TASKQUEUE: 'q' })).toEqual(['FERRY_TASKQUEUE: unknown; did you mean FERRY_TASK_QUEUE?']);
  });

  it('a name close to none says so; every unknown one is reported, sorted; known and foreign variables pass', () => {
    expect(unknownFerryVariables({ FERRY_COLOUR: 'blue', FERRY_HOST_FILE: 'h', FERRY_TASK_QUEUE: 'q', PATH: '/bin', TEMPORAL_ADDRESS: 'a:1' })).toEqual([
      "FERRY_COLOUR: unknown (ferry --help lists ferry's settings)",
      'FERRY_HOST_FILE: unknown; did you mean FERRY_HOSTS_FILE?',
    ]);
    expect(unknownFerryVariables(Object.fromEntries(Object.keys(FERRY_VARIABLES).map((k) => [k, '1'])))).toEqual([]);
  });
});

describe('the registry is complete', () => {
  /**
   * Every FERRY_* name read from or given to an environment in the product, scripts and tests:
   * process.env.X, env.X, env['X'], envPort('X'), $X in shell, and X: in an env object a test
   * passes to a process. Files that name retired variables on purpose are skipped.
   */
  function namesReadInSources(): Set<string> {
    const names = new Set<string>();
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
        if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
        const rel = path.join(dir, e.name);
        if (e.isDirectory()) walk(rel);
        else if (/\.(ts|cjs|mjs|js|sh)$/.test(e.name) || rel === 'bin/ferry') {
          const text = fs.readFileSync(path.join(root, rel), 'utf8');
          if (text.includes('ferry-env: names retired variables on purpose')) continue;
          for (const m of text.matchAll(/(?:env\.|env\[['"]|envPort\(['"]|\$\{?|\b)(FERRY_[A-Z0-9_]+)(?=['"]?\s*[:\]}=)?\s]|$)/gm)) names.add(m[1]!);
        }
      }
    };
    for (const d of ['entry', 'config', 'model', 'workflows', 'activities', 'worker', 'client', 'lab', 'test', 'bench', 'scripts', 'bin']) {
      if (fs.existsSync(path.join(root, d))) walk(d);
    }
    names.delete('FERRY_VARIABLES'); // the registry's own name, where it is imported
    return names;
  }

  it('every FERRY_* variable the code reads is registered', () => {
    const read = [...namesReadInSources()].filter((n) => !(n in REPLACED_BY_TEMPORAL));
    expect(read.length).toBeGreaterThan(5);
    expect(read.filter((n) => !(n in FERRY_VARIABLES))).toEqual([]);
  });

  it('no retired FERRY_TEMPORAL_* variable is read anywhere any more', () => {
    const stale = [...namesReadInSources()].filter((n) => n in REPLACED_BY_TEMPORAL);
    expect(stale).toEqual([]);
  });
});
