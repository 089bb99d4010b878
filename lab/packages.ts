import fs from 'node:fs';
import { run } from './proc';
import type { Progress } from './progress';

/** Debian packages the lab needs, and a command each provides, to see whether it is there. */
export const LAB_PACKAGES: Array<{ pkg: string; provides: string }> = [
  { pkg: 'libvirt-daemon', provides: '/usr/sbin/libvirtd' },
  { pkg: 'libvirt-daemon-driver-qemu', provides: '/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so' },
  { pkg: 'libvirt-clients', provides: '/usr/bin/virsh' },
  { pkg: 'qemu-system-x86', provides: '/usr/bin/qemu-system-x86_64' },
  { pkg: 'python3-placement', provides: '/usr/bin/placement-api' },
  { pkg: 'iproute2', provides: '/usr/sbin/ip' },
  // The lab's CA and host certificates (lab/tls.ts).
  { pkg: 'openssl', provides: '/usr/bin/openssl' },
  // Captures of migration streams (test/integration/tls.test.ts: encrypted or not).
  { pkg: 'tcpdump', provides: '/usr/bin/tcpdump' },
  { pkg: 'gcc', provides: '/usr/bin/gcc' },
  { pkg: 'binutils', provides: '/usr/bin/ld' },
  { pkg: 'make', provides: '/usr/bin/make' },
];

/** Installs with apt whatever the lab needs and the machine lacks. Needs root. */
export async function ensureSystemPackages(say: Progress): Promise<void> {
  const missing: string[] = [];
  for (const { pkg, provides } of LAB_PACKAGES) if (!fs.existsSync(provides)) missing.push(pkg);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`the lab needs these Debian packages, and installing them needs root: ${missing.join(' ')}`);
  }
  say(`installing ${missing.join(' ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update', '-qq'], { env, timeoutMs: 600_000 });
  await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env, timeoutMs: 900_000 });
}
