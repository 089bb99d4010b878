import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fleetOf, SimFleetSpecSchema } from '../../../model/sim/fleet-spec';
import { loadSimFleetSpec } from '../../../worker/sim-worker';

describe('the simulated fleet spec', () => {
  it('generates the hosts and VMs it describes, with UUIDs the contract accepts', () => {
    const fleet = fleetOf(SimFleetSpecSchema.parse({ hosts: 4, vmsPerHost: 3, memoryMiB: [256], dirtyMiBps: [5, 5] }));
    expect(fleet.hosts).toEqual(['sim-h000', 'sim-h001', 'sim-h002', 'sim-h003']);
    expect(fleet.vms).toHaveLength(12);
    expect(new Set(fleet.vms.map((v) => v.uuid)).size).toBe(12);
    for (const vm of fleet.vms) {
      expect(z.string().uuid().safeParse(vm.uuid).success).toBe(true);
      expect(vm).toMatchObject({ memoryMiB: 256, dirtyBps: 5 * 1024 * 1024 });
    }
  });

  it('a bad spec file is refused naming the file and the field', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sim-spec-')), 'spec.json');
    fs.writeFileSync(file, JSON.stringify({ hosts: 1, speed: 0 }));
    expect(() => loadSimFleetSpec(file)).toThrow(new RegExp(`sim fleet spec ${file}: hosts: .*; speed: `));
    fs.writeFileSync(file, JSON.stringify({ hosts: 3, colour: 'blue' }));
    expect(() => loadSimFleetSpec(file)).toThrow(/colour/);
    fs.rmSync(path.dirname(file), { recursive: true });
  });
});
