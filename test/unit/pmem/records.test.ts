import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PmemAssignmentRecords } from '../../../activities/pmem/records';

let dir = '';
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-pmem-records-')); });
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const rec = (namespace: string, migrationId: string) => ({ namespace, migrationId, vmUuid: `vm-of-${migrationId}`, device: '/src/ns0' });

describe('vPMEM assignment records (one file per namespace)', () => {
  it('an empty or missing directory holds no record', () => {
    expect(new PmemAssignmentRecords(path.join(dir, 'absent')).list()).toEqual([]);
  });

  it('the first create of a namespace wins; a second migration finds it taken; a retry of the first is fine', () => {
    const records = new PmemAssignmentRecords(path.join(dir, 'host-b'));
    expect(records.create(rec('ns0', 'm1'))).toBe('created');
    expect(records.create(rec('ns0', 'm2'))).toBe('taken');
    expect(records.create(rec('ns0', 'm1'))).toBe('created');
    expect(records.create(rec('ns1', 'm2'))).toBe('created');
    expect(records.list()).toEqual([rec('ns0', 'm1'), rec('ns1', 'm2')]);
    // No temporary file is left behind.
    expect(fs.readdirSync(path.join(dir, 'host-b')).sort()).toEqual(['ns0.json', 'ns1.json']);
  });

  it('a stale record is removed, then its namespace can be recorded again', () => {
    const records = new PmemAssignmentRecords(dir);
    records.create(rec('ns0', 'm1'));
    records.dropStale(rec('ns0', 'm1'));
    expect(records.list()).toEqual([]);
    records.dropStale(rec('ns0', 'm1')); // gone already: nothing to do
    expect(records.create(rec('ns0', 'm2'))).toBe('created');
  });

  it('removing a stale record leaves a newer record of the same namespace in place', () => {
    const records = new PmemAssignmentRecords(dir);
    records.create(rec('ns0', 'm2'));
    records.dropStale(rec('ns0', 'm1'));
    expect(records.list()).toEqual([rec('ns0', 'm2')]);
    expect(fs.readdirSync(dir)).toEqual(['ns0.json']);
  });

  it('a file that is no record is an error naming it, never skipped', () => {
    fs.writeFileSync(path.join(dir, 'ns0.json'), '{"namespace":"ns9","migrationId":"m","vmUuid":"v","device":"/d"}');
    expect(() => new PmemAssignmentRecords(dir).list()).toThrow(/ns0\.json is not a vPMEM assignment record/);
    fs.writeFileSync(path.join(dir, 'ns0.json'), 'not json');
    expect(() => new PmemAssignmentRecords(dir).list()).toThrow(/fix or remove it by hand/);
  });
});
