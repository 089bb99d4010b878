/**
 * PURE: the policy bench's runs folded into cells (guest x strategy): median and spread of each
 * measure, successes, and the ratio of the median total time to the physical limit (guest RAM /
 * the link's measured bandwidth). A table for people, one JSON object for machines.
 */
import { summarize } from '../stats';
import type { RunMetrics } from './cell';

export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

export interface CellSummary {
  guest: string;
  strategy: string;
  runs: number;
  completed: number;
  /** "3 completed", "2 completed, 1 capped". */
  outcomes: string;
  totalMs: Spread | null;
  /** Median total time of the completed runs / the physical limit. null when none completed. */
  ratioToLimit: number | null;
  downtimeMs: Spread | null;
  guestStallMs: Spread | null;
  bytes: Spread | null;
  iterations: Spread | null;
  degradedMs: Spread | null;
  modes: string;
}

function spread(values: Array<number | null>): Spread | null {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x));
  if (v.length === 0) return null;
  const s = summarize(v);
  return { median: s.median, min: s.min, max: s.max, n: s.n };
}

function countBy(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${n} ${k}`).join(', ');
}

export function summarizeCells(runs: RunMetrics[], physicalLimitMs: number): CellSummary[] {
  const keys = [...new Set(runs.map((r) => `${r.guest}\u0000${r.strategy}`))];
  return keys.map((key) => {
    const [guest, strategy] = key.split('\u0000') as [string, string];
    const rs = runs.filter((r) => r.guest === guest && r.strategy === strategy);
    const done = rs.filter((r) => r.outcome === 'completed');
    // Time and bytes of a run that did not finish say only "at least": they are reported over
    // every run, the ratio only over completed ones.
    const total = spread(rs.map((r) => r.totalMs));
    const doneTotal = spread(done.map((r) => r.totalMs));
    return {
      guest,
      strategy,
      runs: rs.length,
      completed: done.length,
      outcomes: countBy(rs.map((r) => r.outcome)),
      totalMs: total,
      ratioToLimit: doneTotal && physicalLimitMs > 0 ? doneTotal.median / physicalLimitMs : null,
      downtimeMs: spread(done.map((r) => r.downtimeMs)),
      guestStallMs: spread(rs.map((r) => r.guestStallMs)),
      bytes: spread(rs.map((r) => r.bytes)),
      iterations: spread(rs.map((r) => r.iterations)),
      degradedMs: spread(rs.map((r) => r.degradedMs)),
      modes: countBy(done.map((r) => r.mode)),
    };
  });
}

const fmtS = (ms: number) => (ms / 1000).toFixed(ms < 10_000 ? 2 : 1);
const fmtMs = (ms: number) => (ms < 10 ? ms.toFixed(1) : Math.round(ms).toString());

function show(s: Spread | null, f: (n: number) => string): string {
  if (!s) return '-';
  return s.n > 1 && s.min !== s.max ? `${f(s.median)} [${f(s.min)}-${f(s.max)}]` : f(s.median);
}

/** The table: one row per cell, medians with [min-max] across runs. */
export function formatTable(cells: CellSummary[], limit: { physicalLimitMs: number; bandwidthMiBps: number; capMs: number }): string {
  const header = ['guest', 'strategy', 'ok', 'total s', 'x limit', 'downtime ms', 'guest stall ms', 'MiB sent', 'iter', 'degraded s', 'outcomes'];
  const rows = cells.map((c) => [
    c.guest,
    c.strategy,
    `${c.completed}/${c.runs}`,
    show(c.totalMs, fmtS),
    c.ratioToLimit === null ? (c.completed === 0 ? `>${(limit.capMs / limit.physicalLimitMs).toFixed(0)}` : '-') : c.ratioToLimit.toFixed(2),
    show(c.downtimeMs, fmtMs),
    show(c.guestStallMs, fmtMs),
    show(c.bytes, (b) => (b / 1048576).toFixed(0)),
    show(c.iterations, (n) => n.toFixed(0)),
    show(c.degradedMs, fmtS),
    c.outcomes,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((x, i) => x.padEnd(widths[i]!)).join('  ').trimEnd();
  return [
    `physical limit ${fmtS(limit.physicalLimitMs)} s (guest RAM / ${limit.bandwidthMiBps.toFixed(1)} MiB/s measured on the link); cap ${fmtS(limit.capMs)} s`,
    line(header),
    ...rows.map(line),
  ].join('\n');
}
