import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { hostUri, hostDaemonPid } from '../../lab/hosts';
import type { LabState } from '../../lab/state';
import { LAB_LOCAL_POOL, labPools, labSharedPool, poolDirOutside } from '../../lab/storage';
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

describe('lab storage', () => {
  const virsh = (host: string, ...args: string[]) => execFileSync('virsh', ['-c', hostUri(host), ...args], { encoding: 'utf8' });

  it('gives every host an active, autostarted local and shared dir pool', () => {
    for (const h of lab.hosts) {
      for (const pool of labPools()) {
        const info = virsh(h.name, 'pool-info', pool.name);
        expect(info).toMatch(/State:\s+running/);
        expect(info).toMatch(/Autostart:\s+yes/);
        expect(virsh(h.name, 'pool-dumpxml', pool.name)).toContain(`<path>${pool.path}</path>`);
      }
    }
  });

  it('shows a volume made in the shared pool on every host, and one made in the local pool only on its own', () => {
    const [a, b] = [lab.hosts[0]!.name, lab.hosts[1]!.name];
    const name = `probe-${process.pid}.raw`;
    const shared = labSharedPool();
    try {
      virsh(a, 'vol-create-as', shared.name, name, '1M', '--format', 'raw');
      virsh(a, 'vol-create-as', LAB_LOCAL_POOL.name, name, '1M', '--format', 'raw');
      virsh(b, 'pool-refresh', shared.name);
      virsh(b, 'pool-refresh', LAB_LOCAL_POOL.name);
      expect(virsh(b, 'vol-list', shared.name)).toContain(name);
      expect(virsh(b, 'vol-list', LAB_LOCAL_POOL.name)).not.toContain(name);
      expect(fs.existsSync(path.join(poolDirOutside(a, LAB_LOCAL_POOL), name))).toBe(true);
      expect(fs.existsSync(path.join(poolDirOutside(b, LAB_LOCAL_POOL), name))).toBe(false);
    } finally {
      virsh(a, 'vol-delete', '--pool', shared.name, name);
      virsh(a, 'vol-delete', '--pool', LAB_LOCAL_POOL.name, name);
    }
  });
});
