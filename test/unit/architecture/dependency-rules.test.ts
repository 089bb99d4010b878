/**
 * The architecture rules (.dependency-cruiser.cjs, design.md "Layout") hold on the real tree, and
 * the same rules do fail on a scratch tree that breaks each of them: a guard that cannot fail
 * guards nothing.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repoRoot = path.resolve(__dirname, '../../..');
const config = path.join(repoRoot, '.dependency-cruiser.cjs');
const depcruise = path.join(repoRoot, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

interface Violation {
  rule: string;
  from: string;
  to: string;
}

/** Runs the same command as `npm run depcruise` in dir; returns what it reports. */
function violationsIn(dir: string): Violation[] {
  const run = spawnSync(process.execPath, [depcruise, '--config', config, '--output-type', 'json', '.'], {
    cwd: dir,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (!run.stdout) throw new Error(`depcruise printed nothing (exit ${run.status}): ${run.stderr}`);
  const report = JSON.parse(run.stdout) as {
    summary: { violations: Array<{ rule: { name: string }; from: string; to: string }> };
  };
  return report.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to }));
}

describe('dependency rules', () => {
  it('hold on the real tree', () => {
    const found = violationsIn(repoRoot);
    expect(found.map((v) => `${v.rule}: ${v.from} -> ${v.to}`)).toEqual([]);
  });

  describe('on a scratch tree that breaks them', () => {
    let scratch = '';

    const files: Record<string, string> = {
      'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'commonjs', moduleResolution: 'node', strict: true } }),
      // Allowed: nothing below is reported.
      'model/types.ts': 'export type Vm = { name: string };\n',
      'workflows/definitions.ts': "import type { Vm } from '../model/types';\nexport const TASK_QUEUE = 'ferry';\nexport type Ref = Vm;\n",
      'client/ok.ts': "import { TASK_QUEUE } from '../workflows/definitions';\nimport type { Vm } from '../model/types';\nexport const q: string = TASK_QUEUE; export type V = Vm;\n",
      'client/commands/lab.ts': "import { up } from '../../lab/up';\nexport const labUp = up;\n",
      'lab/up.ts': "import { y } from '../activities/y';\nexport const up = y;\n",
      'entry/ferry.ts': "import '../client/ok';\nimport '../worker/w';\n",
      'test/anything.test.ts': "import '../worker/w';\nimport '../client/ok';\nimport '../activities/y';\n",
      // Forbidden, one per rule.
      'activities/y.ts': "import type { Vm } from '../model/types';\nexport const y = 1; export type Y = Vm;\n",
      'client/x.ts': "import { y } from '../activities/y';\nexport const x = y;\n",
      'workflows/w.ts': "import type { Y } from '../activities/y';\nexport type W = Y;\n",
      'activities/z.ts': "import { TASK_QUEUE } from '../workflows/definitions';\nexport const z = TASK_QUEUE;\n",
      'model/m.ts': "import type { W } from '../workflows/w';\nexport type M = W;\n",
      'worker/w.ts': "import { y } from '../activities/y';\nexport const w = y;\n",
      'activities/uses-worker.ts': "import { w } from '../worker/w';\nexport const u = w;\n",
      'lab/uses-client.ts': "import { x } from '../client/x';\nexport const l = x;\n",
      'lab/a.ts': "import { b } from './b';\nexport const a = () => b;\n",
      // A cycle closed by a type-only import: a cycle all the same (reported once).
      'lab/b.ts': "import type { a } from './a';\nexport const b: typeof a | undefined = undefined;\n",
      'lab/uses-test.ts': "import '../test/anything.test';\n",
      // config/: read by the process entries, reading nothing but model/.
      'config/env.ts': "import type { Vm } from '../model/types';\nexport const env = 1; export type E = Vm;\n",
      'client/reads-config.ts': "import { env } from '../config/env';\nexport const r = env;\n",
      'worker/reads-config.ts': "import { env } from '../config/env';\nexport const r = env;\n",
      'config/uses-activities.ts': "import { y } from '../activities/y';\nexport const c = y;\n",
      'activities/reads-config.ts': "import { env } from '../config/env';\nexport const a = env;\n",
    };
    beforeAll(() => {
      scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-depcruise-'));
      for (const [file, text] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(scratch, file)), { recursive: true });
        fs.writeFileSync(path.join(scratch, file), text);
      }
    });
    afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

    it('reports every forbidden import, type-only ones included, and nothing allowed', () => {
      const found = violationsIn(scratch)
        .map((v) => `${v.rule}: ${v.from} -> ${v.to}`)
        .sort();
      expect(found).toEqual(
        [
          'activities-import-only-model: activities/uses-worker.ts -> worker/w.ts',
          'activities-import-only-model: activities/z.ts -> workflows/definitions.ts',
          'activities-import-only-model: activities/reads-config.ts -> config/env.ts',
          'client-imports-only-model-and-definitions: client/x.ts -> activities/y.ts',
          'config-reads-only-the-environment: config/uses-activities.ts -> activities/y.ts',
          'only-process-entries-import-config: activities/reads-config.ts -> config/env.ts',
          'lab-is-below-the-orchestration: lab/uses-client.ts -> client/x.ts',
          'model-is-the-floor: model/m.ts -> workflows/w.ts',
          'no-cycles: lab/a.ts -> lab/b.ts',
          'only-entry-imports-client: lab/uses-client.ts -> client/x.ts',
          'only-entry-imports-worker: activities/uses-worker.ts -> worker/w.ts',
          'product-does-not-import-tests: lab/uses-test.ts -> test/anything.test.ts',
          'workflows-import-only-model: workflows/w.ts -> activities/y.ts',
        ].sort(),
      );
    });
  });
});
