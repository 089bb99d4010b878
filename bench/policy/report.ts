/**
 * PURE: the policy bench's runs folded into cells (guest x strategy): median and spread of each
 * measure, successes, and the ratio of the median total time to the physical limit (guest RAM /
 * the link's measured bandwidth); and ferry's forecast against what was measured: the predicted
 * total, the measured one, the error, and for a cell that did not finish whether the forecast said
 * so too. Tables for people, one JSON object for machines.
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
  /** ferry's forecast against the measure; null when no run asked for one (--no-forecast). */
  forecast: CellForecast | null;
}

/** The error bound issue 12 asks of the forecast's total time. */
export const FORECAST_TOLERANCE_PCT = 25;

export interface CellForecast {
  /** The forecast strategies read, with how many runs each ("postcopy-after-first-pass", "precopy x1, pause x1"); '-' when none. */
  strategy: string;
  /** Why no forecast strategy models this cell (or the forecast's error); null when one does. */
  unmapped: string | null;
  /** Runs with a prediction. */
  predictedRuns: number;
  /** Predicted totals of the runs the forecast says complete within its budget; median = the middle (mean of the middle two). */
  predictedTotalMs: Spread | null;
  /** Runs the forecast says do not complete within its budget. */
  predictedNotDone: number;
  /** Runs the forecast says complete within the bench's cap. */
  predictedDoneInCap: number;
  /** The forecast's budget (ms), as it reported it. */
  budgetMs: number | null;
  /** Measured totals of the completed runs, median as above. */
  measuredTotalMs: Spread | null;
  /** (predicted - measured) / measured, %, from the two medians; null when either is missing. */
  errorPct: number | null;
  /** 'within 25 %', 'miss: error over 25 %', 'match: not done', 'miss: predicted done', 'miss: predicted not done', 'mixed outcomes', 'no forecast'. */
  verdict: string;
  /** What the forecast measured of the guest: dirty rate (MiB/s) and working set (MiB; null runs: unknown, all of RAM assumed). */
  dirtyMiBps: Spread | null;
  workingSetMiB: Spread | null;
  /** ferry-auto: what the workflow's own forecast picked, with how many runs each. */
  workflowPicks: string | null;
}

function spread(values: Array<number | null>): Spread | null {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x));
  if (v.length === 0) return null;
  const s = summarize(v);
  return { median: s.median, min: s.min, max: s.max, n: s.n };
}

function countBy(values: string[], suffix = false): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  // suffix: "precopy" alone when all runs agree, else "precopy x1, pause x1".
  if (suffix) return counts.size === 1 ? [...counts.keys()][0]! : [...counts].map(([k, n]) => `${k} x${n}`).join(', ');
  return [...counts].map(([k, n]) => `${n} ${k}`).join(', ');
}

/** The median as the middle value, the mean of the middle two for an even count (2 runs are common here). */
function middle(values: number[]): Spread | null {
  if (values.length === 0) return null;
  const v = [...values].sort((a, b) => a - b);
  const n = v.length;
  const median = n % 2 === 1 ? v[(n - 1) / 2]! : (v[n / 2 - 1]! + v[n / 2]!) / 2;
  return { median, min: v[0]!, max: v[n - 1]!, n };
}

/** The forecast of one cell's runs against their measures. */
export function forecastOfCell(rs: RunMetrics[], capMs: number): CellForecast | null {
  const asked = rs.filter((r) => r.forecast !== undefined);
  if (asked.length === 0) return null;
  const predicted = asked.filter((r) => r.forecast!.strategy !== null);
  const done = rs.filter((r) => r.outcome === 'completed');
  const totals = predicted.filter((r) => r.forecast!.completes && r.forecast!.predictedTotalMs !== null).map((r) => r.forecast!.predictedTotalMs!);
  const predictedTotalMs = middle(totals);
  const measuredTotalMs = middle(done.map((r) => r.totalMs));
  const predictedDoneInCap = totals.filter((t) => t <= capMs).length;
  const errorPct = predictedTotalMs && measuredTotalMs ? ((predictedTotalMs.median - measuredTotalMs.median) / measuredTotalMs.median) * 100 : null;
  const unmapped = predicted.length === 0 ? [...new Set(asked.map((r) => r.forecast!.reason))].join('; ') : null;
  let verdict: string;
  if (predicted.length === 0) verdict = 'no forecast';
  else if (done.length === 0) {
    verdict = predictedDoneInCap === 0 ? 'match: not done' : predictedDoneInCap === predicted.length ? 'miss: predicted done' : `partly: ${predictedDoneInCap}/${predicted.length} predicted done`;
  } else if (done.length < rs.length) verdict = 'mixed outcomes';
  else if (errorPct === null) verdict = 'miss: predicted not done';
  else verdict = Math.abs(errorPct) <= FORECAST_TOLERANCE_PCT ? `within ${FORECAST_TOLERANCE_PCT} %` : `miss: error over ${FORECAST_TOLERANCE_PCT} %`;
  const picks = rs.filter((r) => r.auto).map((r) => r.auto!.pick ?? 'none');
  return {
    strategy: predicted.length ? countBy(predicted.map((r) => r.forecast!.strategy!), true) : '-',
    unmapped,
    predictedRuns: predicted.length,
    predictedTotalMs,
    predictedNotDone: predicted.length - totals.length,
    predictedDoneInCap,
    budgetMs: predicted.find((r) => r.forecast!.budgetMs !== null)?.forecast!.budgetMs ?? null,
    measuredTotalMs,
    errorPct,
    verdict,
    dirtyMiBps: middle(predicted.filter((r) => r.forecast!.dirtyBps !== null).map((r) => r.forecast!.dirtyBps! / 1048576)),
    workingSetMiB: middle(predicted.filter((r) => r.forecast!.workingSetBytes !== null).map((r) => r.forecast!.workingSetBytes! / 1048576)),
    workflowPicks: picks.length ? countBy(picks, true) : null,
  };
}

export function summarizeCells(runs: RunMetrics[], physicalLimitMs: number, capMs = Infinity): CellSummary[] {
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
      forecast: forecastOfCell(rs, capMs),
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

/** The working set the forecast read: "all RAM" when no run saw one, "42 (1/2, else all RAM)" when only some did. */
function wssCell(f: CellForecast): string {
  if (f.predictedRuns === 0) return '-';
  if (!f.workingSetMiB) return 'all RAM';
  const v = show(f.workingSetMiB, (x) => x.toFixed(0));
  return f.workingSetMiB.n < f.predictedRuns ? `${v} (${f.workingSetMiB.n}/${f.predictedRuns}, else all RAM)` : v;
}

/**
 * The forecast against the measure: one row per cell with a forecast, then how many cells are
 * within the tolerance and how many not-done cells the forecast called.
 */
export function formatForecastTable(cells: CellSummary[], o: { capMs: number; bandwidthMiBps: number }): string {
  const withF = cells.filter((c) => c.forecast !== null);
  const header = ['guest', 'strategy', 'forecast', 'predicted s', 'measured s', 'error %', 'verdict', 'dirty MiB/s', 'wss MiB', 'note'];
  const predictedCell = (f: CellForecast): string => {
    if (f.predictedRuns === 0) return '-';
    const parts: string[] = [];
    if (f.predictedTotalMs) parts.push(show(f.predictedTotalMs, fmtS) + (f.predictedTotalMs.median > o.capMs ? ' (> cap)' : ''));
    if (f.predictedNotDone > 0) parts.push(`not done in ${f.budgetMs === null ? 'the budget' : `${Math.round(f.budgetMs / 1000)} s`}${f.predictedNotDone < f.predictedRuns ? ` x${f.predictedNotDone}` : ''}`);
    return parts.join(', ');
  };
  const rows = withF.map((c) => {
    const f = c.forecast!;
    const note = f.unmapped ?? (f.workflowPicks ? `workflow picked ${f.workflowPicks}` : '');
    return [
      c.guest,
      c.strategy,
      f.strategy,
      predictedCell(f),
      f.measuredTotalMs ? show(f.measuredTotalMs, fmtS) : c.completed === 0 ? `not done (${c.outcomes})` : '-',
      f.errorPct === null ? '-' : `${f.errorPct >= 0 ? '+' : ''}${f.errorPct.toFixed(0)}`,
      f.verdict,
      show(f.dirtyMiBps, (x) => x.toFixed(1)),
      wssCell(f),
      note,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((x, i) => x.padEnd(widths[i]!)).join('  ').trimEnd();
  // Every finished cell with a prediction counts; one whose forecast said "not done" is a miss.
  const timed = withF.filter((c) => c.completed === c.runs && c.forecast!.predictedRuns > 0);
  const within = timed.filter((c) => c.forecast!.errorPct !== null && Math.abs(c.forecast!.errorPct) <= FORECAST_TOLERANCE_PCT);
  const notDone = withF.filter((c) => c.completed === 0 && c.forecast!.predictedRuns > 0);
  const called = notDone.filter((c) => c.forecast!.verdict === 'match: not done');
  return [
    `forecast against measured: the forecast asked after the warm-up with the link's ${o.bandwidthMiBps.toFixed(1)} MiB/s; medians (mean of the middle two for an even count); error = (predicted - measured) / measured; a cell is "not done" when no run finished within the cap (${fmtS(o.capMs)} s)`,
    line(header),
    ...rows.map(line),
    `${within.length} of ${timed.length} finished cells within ${FORECAST_TOLERANCE_PCT} %; ${called.length} of ${notDone.length} not-done cells predicted not done within the cap`,
  ].join('\n');
}
