import { describe, expect, it } from 'vitest';
import { postcopyEligibility } from '../../../model/postcopy-eligibility';
import { postcopyUsable } from '../../../workflows/convergence';
import { ConvergencePolicySchema } from '../../../model/convergence-policy';

const VPMEM = '/domain/devices/memory: vPMEM nvdimm backed by /var/lib/libvirt/pmem/ns0: persistent memory cannot be fetched on demand after the switch';

describe('postcopyEligibility', () => {
  it('eligible with no blocker and recovery on both ends', () => {
    expect(postcopyEligibility({ blockers: [], recoverySupported: true })).toEqual({ eligible: true, reasons: [] });
  });

  it('a vPMEM guest is never eligible, and the reason names the device', () => {
    expect(postcopyEligibility({ blockers: [VPMEM], recoverySupported: true })).toEqual({ eligible: false, reasons: [VPMEM] });
  });

  it('every reason at once: devices, then the hosts', () => {
    expect(postcopyEligibility({ blockers: [VPMEM], recoverySupported: false }).reasons).toEqual([
      VPMEM, 'libvirt older than 8.5 on one end: a broken post-copy could not be recovered',
    ]);
  });

  it('a policy that allows post-copy does not make a vPMEM guest use it', () => {
    const policy = ConvergencePolicySchema.parse({ postcopy: { allowed: true } });
    const { eligible } = postcopyEligibility({ blockers: [VPMEM], recoverySupported: true });
    expect(postcopyUsable(policy, eligible)).toEqual({ usable: false, why: 'post-copy not eligible (pre-checks)' });
  });
});
