import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../paths';
import { run } from '../proc';

/** The guest's source directory and the ELF the Makefile produces. */
export const guestDir = path.join(repoRoot, 'lab', 'guest');
export const guestElfPath = path.join(guestDir, 'build', 'guest.elf');

const sources = ['guest.c', 'boot.S', 'linker.ld', 'Makefile'];

function mtimeMs(p: string): number | undefined {
  try {
    return fs.statSync(p).mtimeMs;
  } catch {
    return undefined;
  }
}

/** True when the ELF exists and is not older than any of its sources. */
export function guestIsUpToDate(): boolean {
  const elf = mtimeMs(guestElfPath);
  if (elf === undefined) return false;
  return sources.every((s) => {
    const m = mtimeMs(path.join(guestDir, s));
    return m === undefined || m <= elf;
  });
}

let building: Promise<string> | undefined;

/**
 * Builds the lab guest when a source is newer than the ELF (or the ELF is missing) and returns
 * the ELF's absolute path. Concurrent callers in this process share one build; the Makefile
 * links to a temporary name and renames, so other processes never see a half-written ELF.
 */
export function ensureGuestBuilt(): Promise<string> {
  if (guestIsUpToDate()) return Promise.resolve(guestElfPath);
  if (!building) {
    building = (async () => {
      try {
        await run('make', ['-C', guestDir, '--no-print-directory'], { timeoutMs: 60_000 });
        if (!fs.existsSync(guestElfPath)) throw new Error(`make did not produce ${guestElfPath}`);
        return guestElfPath;
      } finally {
        building = undefined;
      }
    })();
  }
  return building;
}
