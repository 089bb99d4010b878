/**
 * How a drain reads for people: the plan (where each VM goes, in what order, what cannot move and
 * why), a progress line, and the report (every VM, where it went, how long, why any stayed).
 */
import type { DrainCounts, DrainPlan, DrainProgress, DrainReport, VmReport } from '../model/drain/schemas';
import { renderTable } from './output';

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function formatPlan(plan: DrainPlan): string {
  const rows = plan.moves.map((m, i) => [String(i + 1), m.vm.name, m.destination, `${m.memoryMiB} MiB`, m.notes.join('; ') || '-']);
  const lines = [`plan for ${plan.host}: ${plan.moves.length} to move, ${plan.cannotMove.length} cannot move`];
  if (rows.length) lines.push(renderTable(['ORDER', 'VM', 'DESTINATION', 'MEMORY', 'NOTES'], rows));
  if (plan.cannotMove.length) {
    lines.push('cannot move:', ...plan.cannotMove.map((c) => `  ${c.vm.name}: ${c.kind}: ${c.reason}`));
  }
  return lines.join('\n');
}

export function countsLine(c: DrainCounts): string {
  return `moved ${c.moved}/${c.total}, in flight ${c.inFlight}, waiting ${c.waiting}, failed ${c.failed}, cannot move ${c.cannotMove}` +
    (c.cancelled ? `, cancelled ${c.cancelled}` : '') + (c.aborted ? `, aborted ${c.aborted}` : '');
}

export function progressLine(p: DrainProgress): string {
  return `${p.host} ${p.phase}: ${countsLine(p.counts)}${p.etaMs !== null ? `, ETA ${secs(p.etaMs)}` : ''}${p.cancelRequested ? ' (cancel requested)' : ''}`;
}

function vmRows(vms: VmReport[]): string[][] {
  return vms.map((v) => [
    v.vm.name, v.status, v.destination ?? '-', String(v.attempts.length),
    v.attempts.length ? secs(v.attempts.reduce((s, a) => s + a.durationMs, 0)) : '-', v.reason ?? '-',
  ]);
}

export function formatVms(vms: VmReport[]): string {
  return renderTable(['VM', 'STATUS', 'DESTINATION', 'ATTEMPTS', 'TIME', 'WHY'], vmRows(vms));
}

export function formatReport(r: DrainReport): string {
  if (r.result === 'dry-run') return `${formatPlan(r.plan)}\n(dry run: nothing was reserved, marked or moved)`;
  return [
    `drain of ${r.host}: ${r.result} in ${secs(r.totalMs)}; ${countsLine(r.counts)}`,
    formatVms(r.vms),
    `host: ${r.maintenance}`,
    `room released: ${r.released.length} reservation(s)`,
  ].join('\n');
}
