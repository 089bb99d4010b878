import { describe, expect, it } from 'vitest';
import { pathBandwidth } from '../../../model/forecast/path-bandwidth';

const MiB = 1024 * 1024;

describe("the forecast's path bandwidth: operator, inventory, last migration, else refused", () => {
  it("the operator's --bandwidth wins over the inventory", () => {
    expect(pathBandwidth({ operatorMiBps: 50, sourceLinkMiBps: 1000, destinationLinkMiBps: 1000 })).toMatchObject({ bps: 50 * MiB, source: 'operator' });
  });

  it("the inventory's link speeds give the slower end, and only when both hosts have one", () => {
    expect(pathBandwidth({ sourceLinkMiBps: 1000, destinationLinkMiBps: 100, historyBps: 30 * MiB })).toMatchObject({ bps: 100 * MiB, source: 'inventory' });
    expect(pathBandwidth({ sourceLinkMiBps: 1000, destinationLinkMiBps: null, historyBps: 30 * MiB })).toMatchObject({ bps: 30 * MiB, source: 'history' });
  });

  it('nothing known: refused, naming --bandwidth', () => {
    const r = pathBandwidth({ sourceLinkMiBps: null, destinationLinkMiBps: null, historyBps: 0 });
    expect(r.bps).toBeNull();
    expect('refusal' in r && r.refusal).toMatch(/--bandwidth/);
  });
});
