/**
 * The fault matrix from the command line, against the running lab (`ferry lab up --hosts 3`):
 *
 *   npx tsx test/faults/matrix/run.ts                 the covering set .ci/run runs
 *   npx tsx test/faults/matrix/run.ts --all           every meaningful fault x phase (about 100 cases)
 *   npx tsx test/faults/matrix/run.ts --cell worker-kill@recovery --cell placement-down@claim
 *   npx tsx test/faults/matrix/run.ts --fault operator-abort      one fault at every phase
 *   npx tsx test/faults/matrix/run.ts --ci --fault worker-kill    the covering set, then more
 *   ... --write docs/fault-matrix.md                  also write the table as Markdown
 *
 * Prints the table; exits 1 when any case broke an invariant.
 */
import fs from 'node:fs';
import path from 'node:path';
import { requireLabState } from '../../../lab/state';
import { ALL_CELLS, CI_CELLS, FAULT_IDS, cellId, parseCellId, type Cell, type Fault } from './cells';
import { markdownReport, textTable } from './report';
import { closeMatrix, openMatrix, runCase, type CaseRow } from './runner';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  let write: string | undefined;
  const picked: Cell[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--all') picked.push(...ALL_CELLS);
    else if (a === '--ci') picked.push(...CI_CELLS);
    else if (a === '--cell') picked.push(parseCellId(args[++i] ?? ''));
    else if (a === '--fault') {
      const f = args[++i] as Fault;
      if (!FAULT_IDS.includes(f)) throw new Error(`--fault must be one of ${FAULT_IDS.join(', ')}, got '${f}'`);
      picked.push(...ALL_CELLS.filter((c) => c.fault === f));
    } else if (a === '--write') write = args[++i];
    else throw new Error(`unknown argument '${a}' (--all, --ci, --cell fault@phase, --fault fault, --write file)`);
  }
  // In the order given, each cell once; nothing picked: the covering set.
  const cells = picked.length === 0 ? CI_CELLS : picked.filter((c, i) => picked.findIndex((d) => cellId(d) === cellId(c)) === i);
  const startedAt = new Date();
  const command = `npx tsx test/faults/matrix/run.ts ${args.join(' ')}`.trim();
  if (write) fs.mkdirSync(path.dirname(path.resolve(write)), { recursive: true });
  const env = await openMatrix(requireLabState());
  const rows: CaseRow[] = [];
  try {
    for (const [i, cell] of cells.entries()) {
      const t0 = Date.now();
      const out = await runCase(env, cell, (s) => console.log(`  ${s}`)).catch((err: Error) => {
        console.log(`  case ${cell.fault}@${cell.phase} could not run: ${err.stack ?? err.message}`);
        return [] as CaseRow[];
      });
      rows.push(...out);
      // Written after every case, so a run cut short keeps the table of what it ran.
      if (write) fs.writeFileSync(write, markdownReport(rows, command, startedAt, new Date()));
      console.log(`[${i + 1}/${cells.length}] ${cell.fault}@${cell.phase}: ${out.map((r) => `${r.outcome} invariants ${r.invariants.held ? 'held' : 'BROKEN'}`).join(', ') || 'did not run'} (${Math.round((Date.now() - t0) / 1000)} s)`);
    }
  } finally {
    try {
      console.log(textTable(rows));
      if (write) fs.writeFileSync(write, markdownReport(rows, command, startedAt, new Date()));
    } finally {
      await closeMatrix(env); // its workers must end whatever failed before (a run once left one behind)
    }
  }
  const ran = new Set(rows.map((r) => `${r.cell.fault}@${r.cell.phase}`));
  return rows.every((r) => r.invariants.held) && cells.every((c) => ran.has(`${c.fault}@${c.phase}`)) ? 0 : 1;
}

main().then((code) => process.exit(code), (err) => {
  console.error(err);
  process.exit(1);
});
