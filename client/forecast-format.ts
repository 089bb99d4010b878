/**
 * PURE: a forecast as people read it: one line of what it measured and assumed, then one row per
 * strategy (strategy, total s, downtime ms, MiB sent, fits budget, pick).
 */
import type { ForecastResult } from '../model/forecast/schemas';
import { renderTable } from './output';

const MiB = 1024 * 1024;

export function formatForecast(f: ForecastResult): string {
  const head = [
    `${f.vm.name} (${f.vm.memoryMiB} MiB): ${f.source} → ${f.destination}`,
    `dirty rate ${(f.dirtyBps / MiB).toFixed(1)} MiB/s (measured) · working set ${f.workingSetBytes === null ? 'unknown (all RAM assumed)' : `${(f.workingSetBytes / MiB).toFixed(0)} MiB`} · holding data ${f.touchedBytes == null ? 'unknown (all RAM assumed)' : `${(f.touchedBytes / MiB).toFixed(0)} MiB (QEMU's resident set less its own)`} · bandwidth ${(f.bandwidth.bps / MiB).toFixed(0)} MiB/s from ${f.bandwidth.detail}`,
    `post-copy ${f.postcopyEligible ? 'eligible' : 'not eligible'} · completion budget ${(f.budgetMs / 1000).toFixed(0)} s${f.fixedCosts ? ` · ${f.fixedCosts.detail}` : ''}`,
  ];
  const rows = f.strategies.map((s) => [
    s.strategy,
    s.completes ? (s.totalMs / 1000).toFixed(1) : `>${(s.totalMs / 1000).toFixed(0)}`,
    s.downtimeMs === null ? '-' : String(s.downtimeMs),
    (s.bytes / MiB).toFixed(0),
    !s.allowed ? 'not allowed' : s.fitsBudget ? 'yes' : 'no',
    s.strategy === f.pick ? '<- auto' : '',
  ]);
  const table = renderTable(['STRATEGY', 'TOTAL S', 'DOWNTIME MS', 'MIB SENT', 'FITS BUDGET', 'PICK'], rows);
  const pick = f.pick === null ? `auto: nothing fits (${f.pickReason})` : `auto: ${f.pick} (${f.pickReason})`;
  return [...head, '', table, '', pick].join('\n');
}
