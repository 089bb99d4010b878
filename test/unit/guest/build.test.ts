import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { describe, it, expect } from 'vitest';
import { ensureGuestBuilt, guestElfPath, guestIsUpToDate } from '../../../lab/guest/build';

const haveToolchain = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v gcc && command -v ld && command -v make'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!haveToolchain)('ensureGuestBuilt', () => {
  it('returns the absolute path of a 32-bit multiboot ELF and does not rebuild when up to date', async () => {
    const p = await ensureGuestBuilt();
    expect(p).toBe(guestElfPath);
    expect(p.startsWith('/')).toBe(true);
    const elf = fs.readFileSync(p);
    expect(elf.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(elf[4]).toBe(1); // ELFCLASS32
    // The multiboot header (magic 0x1BADB002) within the first 8 KiB, 4-byte aligned.
    const head = elf.subarray(0, 8192);
    let found = -1;
    for (let i = 0; i + 12 <= head.length; i += 4) {
      if (head.readUInt32LE(i) === 0x1badb002) {
        found = i;
        break;
      }
    }
    expect(found).toBeGreaterThanOrEqual(0);
    const flags = head.readUInt32LE(found + 4);
    expect((head.readUInt32LE(found) + flags + head.readUInt32LE(found + 8)) >>> 0).toBe(0);

    expect(guestIsUpToDate()).toBe(true);
    const mtime = fs.statSync(p).mtimeMs;
    const [a, b] = await Promise.all([ensureGuestBuilt(), ensureGuestBuilt()]);
    expect([a, b]).toEqual([p, p]);
    expect(fs.statSync(p).mtimeMs).toBe(mtime);
  });
});
