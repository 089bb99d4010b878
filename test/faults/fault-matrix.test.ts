import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTestLab } from '../integration/lab';
import { CI_CELLS, cellId } from './matrix/cells';
import { markdownReport, textTable } from './matrix/report';
import { closeMatrix, openMatrix, runCase, type CaseRow, type MatrixEnv } from './matrix/runner';

/**
 * The fault matrix's covering set on the real lab (every fault and every phase at least once;
 * the whole matrix: `npx tsx test/faults/matrix/run.ts --all`). Every case must end with the
 * invariants held, and where the end is certain, with that end.
 */
const EXPECTED: Record<string, string[]> = {
  'worker-kill@recovery': ['completed'],
  'worker-kill-30s@claim': ['completed'],
  'second-worker@prepare': ['completed'],
  'temporal-restart@pre-copy': ['completed'],
  'libvirtd-source@finish': ['completed'],
  // The restarted destination libvirtd kills the half-received guest; the source keeps it.
  'libvirtd-destination@pre-copy': ['failed'],
  'link-cut-restored@post-copy': ['completed'],
  'link-cut-never@pre-copy': ['failed'],
  'placement-down@rollback': ['rolled_back'],
  'generation-bump@claim': ['completed'],
  // One moves, the other is refused for lack of room (the order is the race's).
  'competing@claim': ['completed', 'refused'],
  'operator-abort@pre-checks': ['rolled_back'],
  // The abort arrives as ferry switches to post-copy: refused, the VM moves forward.
  'operator-abort@switch-over': ['completed'],
};

let env: MatrixEnv;
const rows: CaseRow[] = [];
const startedAt = new Date();

beforeAll(async () => {
  env = await openMatrix(await ensureTestLab());
}, 300_000);
afterAll(async () => {
  await closeMatrix(env);
  console.log(textTable(rows));
  fs.mkdirSync('test-results', { recursive: true });
  fs.writeFileSync('test-results/fault-matrix.md', markdownReport(rows, 'npx vitest run test/faults/fault-matrix.test.ts', startedAt, new Date()));
}, 120_000);

describe('the fault matrix (covering set)', () => {
  it('has an expected end for every cell it runs', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(CI_CELLS.map(cellId).sort());
  });

  for (const cell of CI_CELLS) {
    it(`${cellId(cell)}: the VM is never lost, nothing leaks`, async () => {
      const out = await runCase(env, cell, (s) => console.log(`[${cellId(cell)}] ${s}`));
      rows.push(...out);
      for (const r of out) console.log(`[${cellId(cell)}] ${r.vm}: ${r.outcome}, ${r.story.join(' / ')}`);
      expect(out.flatMap((r) => r.invariants.violations)).toEqual([]);
      expect(out.map((r) => r.outcome).sort()).toEqual([...EXPECTED[cellId(cell)]!].sort());
    }, 15 * 60_000);
  }
});
