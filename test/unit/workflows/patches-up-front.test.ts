/**
 * workflows/patches.ts decides every LiveMigration patch in the run's first activation; a patch
 * missing from its list would be decided later, where a query racing a local activity can move
 * its marker to another workflow task (and replay would then fail). The list must be exactly the
 * `patched('…')` ids in the code the LiveMigration workflow runs: its files found by following its
 * relative imports from workflows/live-migration.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LIVE_MIGRATION_PATCHES, PATCHES_DECIDED_UP_FRONT } from '../../../workflows/patches';

const ROOT = path.resolve(__dirname, '../../..');

/** The workflow files reachable from `entry` by relative imports (type-only ones included: harmless). */
function reachable(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const src = fs.readFileSync(file, 'utf8');
    for (const m of src.matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
      const base = path.resolve(path.dirname(file), m[1]!);
      const next = [`${base}.ts`, path.join(base, 'index.ts')].find((f) => fs.existsSync(f));
      if (next && next.startsWith(path.join(ROOT, 'workflows'))) visit(next);
    }
  };
  visit(path.join(ROOT, entry));
  return [...seen];
}

function patchCalls(files: string[]): { ids: string[]; nonLiteral: string[] } {
  const ids: string[] = [];
  const nonLiteral: string[] = [];
  for (const f of files) {
    // Comments may name patched('…') in prose: only code counts.
    const src = fs.readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const m of src.matchAll(/\bpatched\(([^)]*)\)/g)) {
      const lit = /^'([a-z0-9-]+)'$/.exec(m[1]!.trim());
      if (lit) ids.push(lit[1]!);
      else nonLiteral.push(`${path.relative(ROOT, f)}: patched(${m[1]})`);
    }
  }
  return { ids: [...new Set(ids)].sort(), nonLiteral };
}

describe('patches decided up front', () => {
  const files = reachable('workflows/live-migration.ts');

  it('follows the workflow into its steps (the walk finds the files that call patched)', () => {
    const names = files.map((f) => path.relative(ROOT, f));
    expect(names).toEqual(expect.arrayContaining(['workflows/steps/pre-checks.ts', 'workflows/steps/watch-and-decide.ts', 'workflows/patches.ts']));
    expect(names).not.toContain('workflows/drain-host.ts');
  });

  it("the list is exactly the ids the LiveMigration workflow's code asks patched() about", () => {
    const { ids, nonLiteral } = patchCalls(files);
    // patches.ts itself asks through a variable and the constant: nothing else may.
    expect(nonLiteral.sort()).toEqual(['workflows/patches.ts: patched(PATCHES_DECIDED_UP_FRONT)', 'workflows/patches.ts: patched(id)']);
    expect([...LIVE_MIGRATION_PATCHES].sort()).toEqual(ids);
    expect(new Set(LIVE_MIGRATION_PATCHES).size).toBe(LIVE_MIGRATION_PATCHES.length);
    expect(LIVE_MIGRATION_PATCHES).not.toContain(PATCHES_DECIDED_UP_FRONT);
  });
});
