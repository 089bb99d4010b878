import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { hostUri, hostDaemonPid } from '../../lab/hosts';
import type { LabState } from '../../lab/state';
import { ensureTestLab } from './lab';

let lab: LabState;
beforeAll(async () => {
  lab = await ensureTestLab();
});

describe('lab hosts', () => {
  it('runs one libvirtd per host, each with its own hostname', () => {
    const names = lab.hosts.map((h) =>
      execFileSync('virsh', ['-c', hostUri(h.name), 'hostname'], { encoding: 'utf8' }).trim(),
    );
    expect(names).toEqual(lab.hosts.map((h) => h.name));
    const pids = new Set(lab.hosts.map((h) => hostDaemonPid(h.name)));
    expect(pids.size).toBe(lab.hosts.length);
  });

  it('is idempotent: a second lab up reuses the running daemons and host identities', async () => {
    const before = lab.hosts.map((h) => [h.uuid, hostDaemonPid(h.name)]);
    const again = await ensureTestLab();
    expect(again.hosts.map((h) => [h.uuid, hostDaemonPid(h.name)])).toEqual(before);
  });

  it('lets hosts reach each other by name over the lab network only', () => {
    const out = execFileSync('ip', ['netns', 'exec', lab.hosts[0]!.netns, 'getent', 'hosts', lab.hosts[1]!.name], {
      encoding: 'utf8',
    });
    expect(out).toContain(lab.hosts[1]!.address);
    const rootRoutes = execFileSync('ip', ['route', 'get', lab.hosts[1]!.address], { encoding: 'utf8' });
    expect(rootRoutes).not.toContain('br0');
  });
});
