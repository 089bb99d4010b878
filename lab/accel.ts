import fs from 'node:fs';

export type Accel = 'kvm' | 'tcg';

/** KVM when /dev/kvm can be opened read-write, else TCG (software emulation). */
export function probeAccel(): Accel {
  try {
    const fd = fs.openSync('/dev/kvm', 'r+');
    fs.closeSync(fd);
    return 'kvm';
  } catch {
    return 'tcg';
  }
}

export function resolveAccel(requested: 'auto' | Accel): Accel {
  if (requested !== 'kvm') return requested === 'tcg' ? 'tcg' : probeAccel();
  if (probeAccel() !== 'kvm') throw new Error('--accel kvm: /dev/kvm is missing or not usable; use --accel tcg');
  return 'kvm';
}
