/**
 * Debian 12's own QEMU 7.2 beside the lab's QEMU 10.0 (bookworm-backports), unpacked under .tools/
 * and never installed: the bench runs the same guest over the same link with each, under the same
 * libvirt, to show what post-copy preemption (QEMU 8.0+) changes, and the lab shows that ferry
 * detects a pair without it (model/data-path.ts).
 *
 *   npx tsx lab/legacy-qemu.ts install     # prints the binary's path
 *
 * The binary is relocatable: it finds its modules (TCG among them), ROMs and firmware relative to
 * itself, so its own qemu-system-common and qemu-system-data are unpacked beside it, and the
 * firmware other packages ship (SeaBIOS, iPXE), the same for both QEMUs, is linked in.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from './proc';
import { toolsDir } from './paths';

const SUITE = 'bookworm';
const PACKAGES = ['qemu-system-x86', 'qemu-system-common', 'qemu-system-data'];
const SHARED_FIRMWARE = ['usr/share/seabios', 'usr/lib/ipxe'];

export function legacyQemuDir(): string {
  return path.join(toolsDir(), 'qemu-debian12');
}

export function legacyQemuBinary(): string {
  return path.join(legacyQemuDir(), 'usr/bin/qemu-system-x86_64');
}

/** Unpacks Debian 12's QEMU once (apt-get download from the bookworm suite); returns the binary. */
export async function installLegacyQemu(): Promise<string> {
  const bin = legacyQemuBinary();
  if (fs.existsSync(bin)) return bin;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-qemu-debian12-'));
  const staging = `${legacyQemuDir()}.partial`;
  try {
    fs.chmodSync(tmp, 0o755); // apt downloads as _apt when it can
    await run('apt-get', ['download', ...PACKAGES.map((p) => `${p}/${SUITE}`)], { cwd: tmp, timeoutMs: 300_000 });
    fs.rmSync(staging, { recursive: true, force: true });
    fs.mkdirSync(staging, { recursive: true });
    for (const deb of fs.readdirSync(tmp).filter((f) => f.endsWith('.deb'))) {
      await run('dpkg-deb', ['-x', path.join(tmp, deb), staging], { timeoutMs: 120_000 });
    }
    for (const rel of SHARED_FIRMWARE) {
      const link = path.join(staging, rel);
      if (fs.existsSync(link) || !fs.existsSync(`/${rel}`)) continue;
      fs.mkdirSync(path.dirname(link), { recursive: true });
      fs.symlinkSync(`/${rel}`, link);
    }
    if (!fs.existsSync(path.join(staging, 'usr/bin/qemu-system-x86_64'))) {
      throw new Error(`the ${SUITE} packages ${PACKAGES.join(', ')} held no usr/bin/qemu-system-x86_64`);
    }
    fs.rmSync(legacyQemuDir(), { recursive: true, force: true });
    fs.renameSync(staging, legacyQemuDir());
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return bin;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(__filename) && process.argv[2] === 'install') {
  installLegacyQemu().then((bin) => console.log(bin), (err: Error) => { console.error(err.message); process.exit(1); });
}
