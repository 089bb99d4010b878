import fs from 'node:fs';
import path from 'node:path';

/** The repository root: this file lives in <root>/worker, or in <root>/dist/worker once built. */
const root = path.resolve(__dirname, __filename.endsWith('.js') ? '../..' : '..');

/** What the bundle is made of: the workflows and the model they import (nothing else, by rule). */
const BUNDLED_DIRS = ['workflows', 'model'];

function hasNewerSource(dir: string, builtAt: number): boolean {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() ? hasNewerSource(full, builtAt) : entry.name.endsWith('.ts') && fs.statSync(full).mtimeMs > builtAt) {
      return true;
    }
  }
  return false;
}

/**
 * The workflow bundle `npm run build` wrote (dist/workflow-bundle.js), when it is newer than
 * every workflow and model source and than the installed packages (package-lock.json); else
 * undefined and the worker bundles workflows/ itself at start-up (seconds of webpack).
 */
export function prebuiltWorkflowBundle(): { codePath: string } | undefined {
  const codePath = path.join(root, 'dist', 'workflow-bundle.js');
  let builtAt: number;
  try {
    builtAt = fs.statSync(codePath).mtimeMs;
  } catch {
    return undefined;
  }
  const lock = path.join(root, 'package-lock.json');
  if (fs.existsSync(lock) && fs.statSync(lock).mtimeMs > builtAt) return undefined;
  if (BUNDLED_DIRS.some((d) => hasNewerSource(path.join(root, d), builtAt))) return undefined;
  return { codePath };
}
