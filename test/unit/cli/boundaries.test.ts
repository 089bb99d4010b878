/**
 * client/ is a front end that needs only Temporal: it imports the Temporal client, model/,
 * config/ (Temporal's own configuration and ferry's FERRY_* registry) and workflows/definitions.ts, never worker/, activities/ or lab/ (client/commands/lab.ts alone may
 * import lab/, client/commands/stack.ts alone stack/). And `ferry --help` loads none of the heavy modules.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../../..');

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []);
}

/** Every module a file names: static imports, type imports, import() and require(). */
function imports(file: string): string[] {
  const text = fs.readFileSync(path.join(root, file), 'utf8');
  const found = [...text.matchAll(/(?:from\s+|import\s*\(\s*|require\(\s*)'([^']+)'/g)].map((m) => m[1]!);
  return found.map((spec) => (spec.startsWith('.') ? path.relative(root, path.resolve(root, path.dirname(file), spec)) : spec));
}

describe('what client/ may import', () => {
  const allowed = (spec: string, file: string) =>
    spec.startsWith('client/') ||
    spec.startsWith('model/') ||
    spec.startsWith('config/') ||
    spec === 'workflows/definitions' ||
    spec.startsWith('node:') ||
    ['@temporalio/client', 'commander', 'zod'].includes(spec) ||
    (file === 'client/commands/lab.ts' && spec.startsWith('lab/')) ||
    (file === 'client/commands/stack.ts' && spec.startsWith('stack/'));

  it.each(sources('client'))('%s', (file) => {
    expect(imports(file).filter((spec) => !allowed(spec, file))).toEqual([]);
  });

  it('worker/ never imports lab/ or client/', () => {
    for (const file of sources('worker')) expect(imports(file).filter((s) => s.startsWith('lab/') || s.startsWith('client/'))).toEqual([]);
  });
});

describe('ferry --help is fast: it loads no heavy module', () => {
  it('neither the Temporal SDK, nor zod, nor worker/, activities/ or lab/', () => {
    const probe = `
      process.exit = (code) => {
        require('node:fs').writeSync(2, '\\nLOADED ' + JSON.stringify(Object.keys(require.cache)) + '\\n');
        process.reallyExit(code ?? 0);
      };
      process.argv = [process.argv[0], 'ferry', '--help'];
      require('tsx/cjs');
      require('./entry/ferry.ts');
    `;
    const r = spawnSync(process.execPath, ['-e', probe], { cwd: root, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Usage: ferry');
    const loaded = (JSON.parse(/LOADED (.*)/.exec(r.stderr)![1]!) as string[]).map((f) => path.relative(root, f));
    expect(loaded).toContain('client/cli.ts');
    const heavy = loaded.filter((f) =>
      /^node_modules\/(@temporalio|zod)\//.test(f) ||
      /^(lab|stack|activities|model)\//.test(f) ||
      /^config\/temporal-(env|connection)\.ts$/.test(f) ||
      ['worker/main.ts', 'worker/worker.ts', 'client/ferry-client.ts', 'client/commands/migration-actions.ts'].includes(f));
    expect(heavy).toEqual([]);
  });
});
