import { describe, expect, it } from 'vitest';
import { guestCpuXml } from '../../../activities/domain-facts';

describe('guestCpuXml: the CPU the pre-checks compare with the destination', () => {
  it('a <cpu> with a model is compared', () => {
    const cpu = "<cpu mode='custom' match='exact' check='none'><model fallback='forbid'>qemu64</model></cpu>";
    expect(guestCpuXml(`<domain>${cpu}<clock/></domain>`)).toBe(cpu);
  });

  it('host-passthrough and host-model are compared without a model', () => {
    expect(guestCpuXml("<domain><cpu mode='host-passthrough' check='none'/></domain>")).toBe("<cpu mode='host-passthrough' check='none'/>");
    expect(guestCpuXml("<domain><cpu mode='host-model'><numa><cell id='0' cpus='0' memory='1'/></numa></cpu></domain>")).toMatch(/^<cpu mode='host-model'>/);
  });

  it('a <cpu> that only holds NUMA cells (a vPMEM guest) sets no CPU: the default model, nothing to compare', () => {
    expect(guestCpuXml("<domain><cpu mode='custom' match='exact' check='none'><numa><cell id='0' cpus='0' memory='131072' unit='KiB'/></numa></cpu></domain>")).toBeUndefined();
    expect(guestCpuXml('<domain><cpu><numa><cell/></numa></cpu></domain>')).toBeUndefined();
  });

  it('no <cpu> at all: the default model', () => {
    expect(guestCpuXml('<domain><clock/></domain>')).toBeUndefined();
  });
});
