import path from 'node:path';

/**
 * The repository root: this file lives in <root>/lab, or in <root>/dist/lab once built (npm run
 * build); the lab's scripts, guest sources and state stay at the root either way.
 */
export const repoRoot = path.resolve(__dirname, __filename.endsWith('.js') ? '../..' : '..');

/** Where the lab keeps its state: daemons' dirs, logs, PID files, SQLite files. Git-ignored. */
export function labDir(): string {
  return path.resolve(process.env.FERRY_LAB_DIR ?? path.join(repoRoot, '.lab'));
}

/** Where pinned tools (the Temporal CLI, virtualenvs) are cached between runs. Git-ignored. */
export function toolsDir(): string {
  return path.resolve(process.env.FERRY_TOOLS_DIR ?? path.join(repoRoot, '.tools'));
}

/**
 * Prefix of the lab's network namespace names. FERRY_LAB_ID lets a second lab (say, a CI run in
 * a fresh clone) run beside a developer's: its namespaces, ports and directories differ.
 */
export function netnsPrefix(): string {
  const id = process.env.FERRY_LAB_ID;
  if (id !== undefined && !/^[a-z0-9]{1,6}$/.test(id)) {
    throw new Error(`FERRY_LAB_ID must be 1-6 lower-case letters or digits, got '${id}'`);
  }
  return id ? `ferry${id}-` : 'ferry-';
}
