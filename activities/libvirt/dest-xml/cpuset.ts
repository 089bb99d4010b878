/**
 * libvirt's CPU/NUMA-node set syntax ("0-3,^2,8"), as used by vcpupin, emulatorpin, iothreadpin,
 * <vcpu cpuset> and numatune nodesets.
 */

export class CpuSetSyntaxError extends Error {
  override readonly name = 'CpuSetSyntaxError';
}

const MAX_ID = 1 << 16; // libvirt's own cap on bitmap sizes is far below anything that matters here

export function parseCpuSet(spec: string): number[] {
  const included = new Set<number>();
  const excluded = new Set<number>();
  const parts = spec.split(',').map((p) => p.trim());
  if (parts.length === 0 || parts.some((p) => p === '')) throw new CpuSetSyntaxError(`invalid set '${spec}'`);
  for (const part of parts) {
    const m = /^(\^)?(\d+)(?:\s*-\s*(\d+))?$/.exec(part);
    if (!m) throw new CpuSetSyntaxError(`invalid set '${spec}': cannot read '${part}'`);
    const from = Number(m[2]);
    const to = m[3] === undefined ? from : Number(m[3]);
    if (to < from || to > MAX_ID) throw new CpuSetSyntaxError(`invalid set '${spec}': bad range '${part}'`);
    if (m[1] && m[3] !== undefined) throw new CpuSetSyntaxError(`invalid set '${spec}': cannot exclude a range`);
    for (let i = from; i <= to; i++) (m[1] ? excluded : included).add(i);
  }
  const ids = [...included].filter((i) => !excluded.has(i)).sort((a, b) => a - b);
  if (ids.length === 0) throw new CpuSetSyntaxError(`invalid set '${spec}': it is empty`);
  return ids;
}

/** Formats like libvirt (virBitmapFormat): ascending, consecutive ids folded into ranges. */
export function formatCpuSet(ids: Iterable<number>): string {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const parts: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j === i ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

export function isSubset(ids: readonly number[], of: ReadonlySet<number>): boolean {
  return ids.every((i) => of.has(i));
}
