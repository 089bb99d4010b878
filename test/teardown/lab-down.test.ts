import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hostDaemonPid, hostQemuPids } from '../../lab/hosts';
import { labDown } from '../../lab/lab';
import { labDir, netnsPrefix } from '../../lab/paths';
import { isAlive } from '../../lab/proc';
import { placementStatus } from '../../lab/placement';
import { readLabState } from '../../lab/state';
import { temporalStatus } from '../../lab/temporal';

/** Runs after every other test file (see scripts/test.sh): the lab must leave nothing behind. */
describe('lab down', () => {
  it('leaves no process, network namespace or mount of the lab', async () => {
    const state = readLabState();
    const [t, p] = await Promise.all([temporalStatus(), placementStatus()]);
    const pidsBefore = [
      ...(state?.hosts ?? []).flatMap((h) => [hostDaemonPid(h.name), ...hostQemuPids(h.name)]),
      t.running ? t.pid : undefined,
      p.running ? p.pid : undefined,
    ].filter((pid): pid is number => pid !== undefined);
    expect(pidsBefore.length).toBeGreaterThan(0); // the suite before this ran against a live lab

    await labDown();

    expect(pidsBefore.filter(isAlive)).toEqual([]);
    const dir = labDir();
    const mounts = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').filter((l) => l.includes(dir));
    expect(mounts).toEqual([]);
    const netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    expect(netns.split('\n').filter((n) => n.startsWith(netnsPrefix()))).toEqual([]);
    // Every lab host process lives in a mount namespace that binds the lab's directories, so a
    // process whose mount table names the lab directory is a leftover of ours.
    const leftovers = fs
      .readdirSync('/proc')
      .filter((pid) => /^\d+$/.test(pid))
      .filter((pid) => {
        try {
          return fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8').includes(dir);
        } catch {
          return false;
        }
      });
    expect(leftovers).toEqual([]);
  });
});
