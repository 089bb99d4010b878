import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseDataPath, formatVersion, HostStackSchema, pairHas, qemuVersionFromMachine, type HostStack, type PairStacks } from '../../../model/data-path';

const fixture = (name: string): HostStack =>
  HostStackSchema.parse(JSON.parse(fs.readFileSync(path.join(__dirname, '../../fixtures/stacks', `${name}.json`), 'utf8')));
const debian12 = fixture('debian12');
const backports = fixture('backports');
const pair = (source: HostStack, destination: HostStack): PairStacks => ({ source, destination });
const wish = { postcopy: true, parallelConnections: 0, switchoverBandwidthMiBps: null };

describe('the data path a host pair offers', () => {
  it('reads the packed versions the pre-checks report', () => {
    expect(formatVersion(backports.libvirt)).toBe('11.3.0');
    expect(formatVersion(backports.qemu)).toBe('10.0.2');
    expect(formatVersion(debian12.qemu)).toBe('7.2.0');
  });

  it('backports on both ends: post-copy preemption on, the switch-over hint used when a bandwidth is given', () => {
    const p = chooseDataPath(pair(backports, backports), { ...wish, switchoverBandwidthMiBps: 50 });
    expect(p).toMatchObject({ postcopyPreempt: true, parallelConnections: null, switchoverBandwidthMiBps: 50 });
    expect(p.why.join('\n')).toMatch(/preemption: on/);
  });

  it("Debian 12's own stack: no preemption (libvirt 9.0 does not turn it on) and no switch-over hint, named with the versions", () => {
    const p = chooseDataPath(pair(debian12, debian12), { ...wish, switchoverBandwidthMiBps: 50 });
    expect(p).toMatchObject({ postcopyPreempt: false, switchoverBandwidthMiBps: null });
    expect(p.why.join('\n')).toMatch(/preemption: unavailable on libvirt 9\.0\.0\/9\.0\.0, QEMU 7\.2\.0\/7\.2\.0 \(needs libvirt 11\.3/);
    expect(p.why.join('\n')).toMatch(/switch-over bandwidth hint: unavailable on libvirt 9\.0\.0\/9\.0\.0, QEMU 7\.2\.0\/7\.2\.0/);
  });

  it("libvirt 11.3 with Debian 12's QEMU 7.2: preemption on (seen on the lab), the hint not (QEMU 8.2 needed)", () => {
    const p = chooseDataPath(pair({ libvirt: backports.libvirt, qemu: debian12.qemu }, { libvirt: backports.libvirt, qemu: debian12.qemu }), { ...wish, switchoverBandwidthMiBps: 50 });
    expect(p).toMatchObject({ postcopyPreempt: true, switchoverBandwidthMiBps: null });
  });

  it('a mixed pair gets only what both ends have (old source, new destination and the reverse)', () => {
    for (const p of [pair(debian12, backports), pair(backports, debian12)]) {
      expect(chooseDataPath(p, { ...wish, switchoverBandwidthMiBps: 50 })).toMatchObject({ postcopyPreempt: false, switchoverBandwidthMiBps: null });
      expect(pairHas(p, 'postcopyRecovery')).toBe(true);
    }
  });

  it('a QEMU before 7.1 on either end: no preemption, saying what it needs', () => {
    const old = { libvirt: 11_003_000, qemu: 7_000_000 };
    for (const p of [pair(old, backports), pair(backports, old)]) {
      const d = chooseDataPath(p, wish);
      expect(d.postcopyPreempt).toBe(false);
      expect(d.why.join('\n')).toMatch(/preemption: unavailable on .*needs libvirt 11\.3 and QEMU 7\.1/);
    }
  });

  it('multifd only where post-copy will not be started: QEMU 10.0 refuses the two together', () => {
    const withPostcopy = chooseDataPath(pair(backports, backports), { ...wish, parallelConnections: 4 });
    expect(withPostcopy.parallelConnections).toBeNull();
    expect(withPostcopy.why.join('\n')).toMatch(/cannot combine them/);
    const precopyOnly = chooseDataPath(pair(debian12, debian12), { ...wish, postcopy: false, parallelConnections: 4 });
    expect(precopyOnly).toMatchObject({ parallelConnections: 4, postcopyPreempt: false });
    const future = { libvirt: 11_003_000, qemu: 10_001_000 };
    expect(chooseDataPath(pair(future, future), { ...wish, parallelConnections: 4 }).parallelConnections).toBe(4);
  });

  it('no post-copy: preemption is not claimed, whatever the stack', () => {
    expect(chooseDataPath(pair(backports, backports), { ...wish, postcopy: false }).postcopyPreempt).toBe(false);
  });
});

describe('an encrypted migration stream', () => {
  it('asked for: TLS on any stack, said in the decision; not asked: nothing said, so older decisions read the same', () => {
    const on = chooseDataPath(pair(debian12, debian12), { ...wish, tls: true });
    expect(on.tls).toBe(true);
    expect(on.why.at(-1)).toMatch(/^migration stream: TLS/);
    const off = chooseDataPath(pair(debian12, debian12), wish);
    expect(off.tls).toBeUndefined();
    expect(off.why.join('; ')).not.toMatch(/TLS/);
    expect(chooseDataPath(pair(debian12, debian12), { ...wish, tls: false })).toEqual(off);
  });
});

describe("a guest's own QEMU, from the machine type its emulator defaults to", () => {
  it('reads the version from upstream machine type names', () => {
    expect(qemuVersionFromMachine('pc-i440fx-7.2')).toBe(7_002_000);
    expect(qemuVersionFromMachine('pc-q35-10.0')).toBe(10_000_000);
  });
  it('gives none for names without a version, so the host default is used', () => {
    expect(qemuVersionFromMachine('pc-q35-rhel9.4.0')).toBeNull();
    expect(qemuVersionFromMachine('pc')).toBeNull();
  });
});
