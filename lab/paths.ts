import path from 'node:path';

/** The repository root (this file lives in <root>/lab). */
export const repoRoot = path.resolve(__dirname, '..');

/** Where the lab keeps its state: daemons' dirs, logs, PID files, SQLite files. Git-ignored. */
export function labDir(): string {
  return path.resolve(process.env.FERRY_LAB_DIR ?? path.join(repoRoot, '.lab'));
}

/** Where pinned tools (the Temporal CLI, virtualenvs) are cached between runs. Git-ignored. */
export function toolsDir(): string {
  return path.resolve(process.env.FERRY_TOOLS_DIR ?? path.join(repoRoot, '.tools'));
}
