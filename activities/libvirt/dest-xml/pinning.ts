/**
 * Host CPU pinning and host NUMA bindings. A set that the destination has stays as it is. Otherwise
 * the whole pinning is remapped in order (the n-th host CPU the source uses becomes the n-th the
 * destination offers), which keeps which vCPUs share or own a host CPU; one map for every element so
 * that relation holds across vcpupin, emulatorpin and iothreadpin. Guest CPUs and guest NUMA cells
 * (<cpu><numa>, vcpupin@vcpu, memnode@cellid) are guest-visible and never touched.
 */
import type { RewriteContext } from './context';
import { CpuSetSyntaxError, formatCpuSet, isSubset, parseCpuSet } from './cpuset';
import { attr, locate, select, type Element } from './xml-dom';

interface Pinned {
  el: Element;
  attribute: string;
  ids: number[];
}

function collect(ctx: RewriteContext, paths: ReadonlyArray<[string, string]>): Pinned[] {
  const pinned: Pinned[] = [];
  for (const [path, attribute] of paths) {
    for (const el of select(ctx.root, path)) {
      const spec = attr(el, attribute);
      if (spec === undefined) continue;
      try {
        pinned.push({ el, attribute, ids: parseCpuSet(spec) });
      } catch (err) {
        if (!(err instanceof CpuSetSyntaxError)) throw err;
        ctx.refuse(el, `cannot read ${attribute}='${spec}': ${err.message}`);
      }
    }
  }
  return pinned;
}

function orderedMap(used: number[], available: number[]): Map<number, number> {
  return new Map(used.map((id, i) => [id, available[i]!]));
}

export function rewriteCpuPinning(ctx: RewriteContext): void {
  const pinned = collect(ctx, [
    ['vcpu', 'cpuset'],
    ['cputune/vcpupin', 'cpuset'],
    ['cputune/emulatorpin', 'cpuset'],
    ['cputune/iothreadpin', 'cpuset'],
  ]);
  if (pinned.length === 0) return;
  const host = ctx.facts.hostName;
  if (ctx.facts.cpuSet === undefined) {
    for (const p of pinned) {
      ctx.refuse(
        p.el,
        `pins to host CPUs ${attr(p.el, p.attribute)} but ${host} reported no CPU set available for pinning, ` +
          'so the pinning cannot be checked or remapped',
      );
    }
    return;
  }
  const available = parseCpuSet(ctx.facts.cpuSet);
  const availableSet = new Set(available);
  if (pinned.every((p) => isSubset(p.ids, availableSet))) return;
  const used = [...new Set(pinned.flatMap((p) => p.ids))].sort((a, b) => a - b);
  if (used.length <= available.length) {
    const map = orderedMap(used, available);
    for (const p of pinned) {
      const to = formatCpuSet(p.ids.map((id) => map.get(id)!));
      ctx.setAttribute(
        p.el,
        p.attribute,
        to,
        `host CPUs ${formatCpuSet(used)} are not all available on ${host} (${ctx.facts.cpuSet}): remapped in order`,
      );
    }
    return;
  }
  for (const p of pinned) {
    ctx.setAttribute(
      p.el,
      p.attribute,
      formatCpuSet(available),
      `the source pins onto ${used.length} host CPUs, ${host} offers ${available.length} (${ctx.facts.cpuSet}): ` +
        'pinned to the whole available set, so vCPUs no longer own a host CPU each',
    );
  }
}

export function rewriteNumaNodes(ctx: RewriteContext): void {
  const bound = collect(ctx, [
    ['numatune/memory', 'nodeset'],
    ['numatune/memnode', 'nodeset'],
  ]);
  if (bound.length === 0) return;
  const available = [...new Set(ctx.facts.numaNodes)].sort((a, b) => a - b);
  const availableSet = new Set(available);
  if (bound.every((b) => isSubset(b.ids, availableSet))) return;
  const host = ctx.facts.hostName;
  const used = [...new Set(bound.flatMap((b) => b.ids))].sort((a, b) => a - b);
  const offered = available.length ? `NUMA nodes ${formatCpuSet(available)}` : 'no NUMA nodes';
  if (used.length > available.length) {
    for (const b of bound) {
      ctx.refuse(
        b.el,
        `binds guest memory to host NUMA nodes ${attr(b.el, b.attribute)}; the source uses ${used.length} nodes ` +
          `(${formatCpuSet(used)}) and ${host} offers ${offered}, so the guest's NUMA placement cannot be kept`,
      );
    }
    return;
  }
  const map = orderedMap(used, available);
  for (const b of bound) {
    const to = formatCpuSet(b.ids.map((id) => map.get(id)!));
    ctx.setAttribute(b.el, b.attribute, to, `host NUMA nodes ${formatCpuSet(used)} are not all on ${host} (${offered}): remapped in order`);
  }
}

/** After the rewrite: every pin and nodeset must be something the destination has. */
export function pinningProblems(root: Element, cpuSet: string | undefined, numaNodes: readonly number[]): string[] {
  const problems: string[] = [];
  const cpus = new Set(cpuSet === undefined ? [] : parseCpuSet(cpuSet));
  const nodes = new Set(numaNodes);
  const check = (path: string, attribute: string, available: Set<number>, what: string) => {
    for (const el of select(root, path)) {
      const spec = attr(el, attribute);
      if (spec !== undefined && !isSubset(parseCpuSet(spec), available)) {
        problems.push(`${locate(el)}/@${attribute}='${spec}' is not among the destination's ${what}`);
      }
    }
  };
  for (const path of ['vcpu', 'cputune/vcpupin', 'cputune/emulatorpin', 'cputune/iothreadpin']) check(path, 'cpuset', cpus, 'CPUs');
  for (const path of ['numatune/memory', 'numatune/memnode']) check(path, 'nodeset', nodes, 'NUMA nodes');
  return problems;
}
