/**
 * `ferry simulate`'s work: read the trace and the policies (each checked: an error names the file
 * and the field), replay, and format the side-by-side table and the JSON line.
 */
import type fs from 'node:fs';
import path from 'node:path';
import { ConvergencePolicySchema, type ConvergencePolicy } from '../model/convergence-policy';
import { fitTrace, type RecordedTrace } from '../model/sim/trace-fit';
import { simulateUnderPolicy, type WhatIfOutcome } from './what-if';

const MiB = 1024 * 1024;

function readJson(file: string, what: string, read: typeof fs.readFileSync): unknown {
  try {
    return JSON.parse(read(file, 'utf8'));
  } catch (err) {
    throw new Error(`${what} ${file}: ${(err as Error).message}`);
  }
}

function readTrace(file: string, read: typeof fs.readFileSync): RecordedTrace {
  const t = readJson(file, 'trace', read) as Partial<RecordedTrace> & { format?: string };
  if (t.format !== 'ferry-convergence-trace/1' || !Array.isArray(t.samples) || !t.meta?.vm?.memoryMiB) {
    throw new Error(`trace ${file}: not a ferry-convergence-trace/1 file (format, meta.vm.memoryMiB and samples are required)`);
  }
  return t as RecordedTrace;
}

function readPolicy(file: string, read: typeof fs.readFileSync): ConvergencePolicy {
  const parsed = ConvergencePolicySchema.safeParse(readJson(file, 'policy', read));
  if (!parsed.success) {
    throw new Error(`policy ${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

const sec = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`);

export function runSimulate(traceFile: string, policyFiles: string[], read: typeof fs.readFileSync, jsonOnly: boolean): string {
  const trace = readTrace(traceFile, read);
  const policies = policyFiles.map((f) => ({ name: path.basename(f), policy: readPolicy(f, read) }));
  const fit = fitTrace(trace);
  const results: Array<{ name: string; outcome: WhatIfOutcome }> = policies.map((p) => ({ name: p.name, outcome: simulateUnderPolicy(fit, p.policy) }));
  const json = JSON.stringify({
    simulate: trace.name,
    fit: { memoryMiB: fit.vm.memoryBytes / MiB, linkMiBps: fit.link.linkBps / MiB, dirtyMiBps: fit.vm.dirtyBps / MiB, touchedMiB: (fit.vm.touchedBytes ?? 0) / MiB },
    recorded: trace.result,
    results,
  });
  if (jsonOnly) return `${json}\n`;
  const cols = ['recorded', ...results.map((r) => r.name)];
  const rec = trace.result;
  const rows: Array<[string, string[]]> = [
    ['outcome', [`${rec.outcome}${trace.meta.abortAfterMs && rec.outcome !== 'completed' ? ` (recorder aborted at ${sec(trace.meta.abortAfterMs)})` : ''}`, ...results.map((r) => r.outcome.outcome)]],
    ['mode', [String((trace.result as { mode?: string }).mode ?? '-'), ...results.map((r) => r.outcome.mode)]],
    ['total', [sec(rec.totalMs), ...results.map((r) => sec(r.outcome.totalMs))]],
    ['downtime', [rec.downtimeMs === null ? '-' : `${rec.downtimeMs} ms`, ...results.map((r) => (r.outcome.downtimeMs === null ? '-' : `${r.outcome.downtimeMs} ms`))]],
    ['iterations', [String(rec.lastIteration ?? '-'), ...results.map((r) => String(r.outcome.iterations))]],
    ['sent', ['-', ...results.map((r) => `${(r.outcome.bytes / MiB).toFixed(0)} MiB`)]],
    ['post-copy faults', ['-', ...results.map((r) => String(r.outcome.postcopyRequests))]],
    ['actions', ['-', ...results.map((r) => r.outcome.actions.map((a) => `${a.kind}${a.detail ? ` ${a.detail}` : ''}@${sec(a.atMs)}`).join(', ') || 'none')]],
  ];
  const width = cols.map((c, i) => Math.max(c.length, ...rows.map(([, v]) => Math.min(60, v[i]!.length))));
  const line = (label: string, v: string[]) => `${label.padEnd(17)} ${v.map((x, i) => x.padEnd(width[i]!)).join('  ')}`;
  return [
    `${trace.name}: ${trace.meta.vm.memoryMiB} MiB guest, fitted link ${(fit.link.linkBps / MiB).toFixed(1)} MiB/s, dirty ${(fit.vm.dirtyBps / MiB).toFixed(1)} MiB/s, ` +
      `${((fit.vm.touchedBytes ?? 0) / MiB).toFixed(0)} MiB holding data (model/sim/trace-fit.ts); replayed by the dirty-page model and ferry's controller`,
    line('', cols),
    ...rows.map(([label, v]) => line(label, v)),
    json,
    '',
  ].join('\n');
}
