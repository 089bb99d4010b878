import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { labDownHosts } from '../../lab/lab';
import { labDir } from '../../lab/paths';

/** Runs after every other test file (see scripts/test.sh): the lab must leave nothing behind. */
describe('lab down', () => {
  it('leaves no process, network namespace or mount of the lab', async () => {
    await labDownHosts();
    const dir = labDir();
    const mounts = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').filter((l) => l.includes(dir));
    expect(mounts).toEqual([]);
    const netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    expect(netns).not.toMatch(/ferry-/);
    // Every lab process lives in a mount namespace that binds the lab's directories, so a process
    // whose mount table names the lab directory is a leftover of ours.
    const procs = fs
      .readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return fs.readFileSync(`/proc/${p}/mountinfo`, 'utf8').includes(dir);
        } catch {
          return false;
        }
      });
    expect(procs).toEqual([]);
  });
});
