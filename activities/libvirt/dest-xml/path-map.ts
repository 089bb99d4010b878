/** Prefix mapping of host paths, on path-segment boundaries: '/a/b' maps '/a/b/c' but not '/a/bc'. */

export interface MappedPath {
  to: string;
  /** The pathMap key that matched. */
  prefix: string;
}

function trimSlash(p: string): string {
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

function under(path: string, prefix: string): boolean {
  return prefix === '/' || path === prefix || path.startsWith(`${prefix}/`);
}

/** The longest matching prefix wins; undefined when no prefix covers the path. */
export function mapPath(path: string, map: Readonly<Record<string, string>>): MappedPath | undefined {
  let best: { key: string; from: string; to: string } | undefined;
  for (const [key, value] of Object.entries(map)) {
    const from = trimSlash(key);
    if (under(path, from) && (!best || from.length > best.from.length)) best = { key, from, to: trimSlash(value) };
  }
  if (!best) return undefined;
  const rest = best.from === '/' ? path : path.slice(best.from.length);
  const to = best.to === '/' ? rest || '/' : `${best.to}${rest}`;
  return { to, prefix: best.key };
}

export function isUnderAny(path: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => under(path, trimSlash(p)));
}
