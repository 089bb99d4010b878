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

  it('lets each daemon resolve and reach the other hosts by name, inside the lab network only', () => {
    const [a, b] = [lab.hosts[0]!, lab.hosts[1]!];
    const pid = String(hostDaemonPid(a.name));
    // Look from inside host-a's own namespaces (network, mount, UTS), as its libvirtd does.
    const inA = (cmd: string) => execFileSync('nsenter', ['-t', pid, '-n', '-m', '-u', 'sh', '-c', cmd], { encoding: 'utf8' });
    expect(inA('hostname').trim()).toBe(a.name);
    expect(inA(`getent hosts ${b.name}`)).toContain(b.address);
    // bash's /dev/tcp: a TCP connect to host-b's libvirtd port from host-a.
    expect(inA(`timeout 5 bash -c 'exec 3<>/dev/tcp/${b.name}/16509' && echo reached`)).toContain('reached');
    const rootRoute = execFileSync('ip', ['route', 'get', b.address], { encoding: 'utf8' });
    expect(rootRoute).not.toContain('br0');
  });
});
