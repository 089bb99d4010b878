/** How a migration reads in the Temporal UI: the summary is one line; outcome details redact what a libvirt error may quote. */
import { describe, expect, it } from 'vitest';
import { ConvergencePolicySchema } from '../../../model/convergence-policy';
import { migrationSummary, outcomeDetails } from '../../../model/migration-metadata';
import type { Outcome } from '../../../model/types';

const defaults = ConvergencePolicySchema.parse({});

describe('migrationSummary', () => {
  it('names the VM, both hosts and the intended mode on one line', () => {
    expect(migrationSummary({ vm: 'web-7', destination: { host: 'host-a', mode: 'check' } }, 'host-c', defaults)).toBe(
      'migrate web-7: host-c → host-a, post-copy from iteration 2 if eligible',
    );
    expect(migrationSummary({ vm: 'web-7', destination: { host: 'host-a', mode: 'force' } }, undefined, ConvergencePolicySchema.parse({ postcopy: { allowed: false } }))).toBe(
      'migrate web-7: its host → host-a (forced), pre-copy only',
    );
    expect(migrationSummary({ vm: 'web-7', destination: undefined }, 'host-c', defaults)).toBe(
      'migrate web-7: host-c → a host Placement chooses, post-copy from iteration 2 if eligible',
    );
  });
});

describe('outcomeDetails', () => {
  it('shows the cause of a failure with secrets a quoted XML carries redacted', () => {
    const o: Outcome = {
      migrationId: 'm', outcome: 'failed', mode: 'precopy', source: 'host-c', destination: 'host-a', totalMs: 1500, downtimeMs: null,
      guestMaxStallMs: null, bytes: null, iterations: null, decisions: [], hosts: { source: 'running (Booted)', destination: 'none' },
      error: { type: 'LibvirtError', message: "unsupported <graphics type='vnc' passwd='s3cret'/>" },
    };
    const text = outcomeDetails(o);
    expect(text.split('\n')[0]).toBe('**failed** in 1.5 s · precopy · host-c → host-a');
    expect(text).toContain("passwd='<redacted>'");
    expect(text).not.toContain('s3cret');
  });
});
