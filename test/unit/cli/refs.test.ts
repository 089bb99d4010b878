import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../client/errors';
import { EXIT } from '../../../client/exit-codes';
import { parseHostName, parseMigrationRef, parseVmRef } from '../../../client/refs';

const UUID = '3435ec0c-1a4a-4471-aca0-b5a61da8370c';

describe('what an operator may type for a migration or a VM', () => {
  it('a workflow id is used as is; a UUID (any case) becomes migrate-<uuid>', () => {
    expect(parseMigrationRef(`migrate-${UUID}`)).toEqual({ kind: 'id', workflowId: `migrate-${UUID}` });
    expect(parseMigrationRef(UUID)).toEqual({ kind: 'id', workflowId: `migrate-${UUID}` });
    expect(parseMigrationRef(UUID.toUpperCase())).toEqual({ kind: 'id', workflowId: `migrate-${UUID}` });
    expect(parseMigrationRef(`migrate-${UUID.toUpperCase()}`)).toEqual({ kind: 'id', workflowId: `migrate-${UUID}` });
  });

  it('anything else that is a VM name is looked up by name (migrate- elsewhere than at the start too)', () => {
    expect(parseMigrationRef('web-7')).toEqual({ kind: 'name', name: 'web-7' });
    expect(parseMigrationRef('web-migrate-1')).toEqual({ kind: 'name', name: 'web-migrate-1' });
    expect(parseMigrationRef('migrated')).toEqual({ kind: 'name', name: 'migrated' });
  });

  describe('migrate- followed by no UUID is a migration id typed wrong: exit 64, never a VM name', () => {
    const refusal = (fn: () => unknown): UsageError => {
      try {
        fn();
      } catch (err) {
        if (err instanceof UsageError) return err;
        throw err;
      }
      throw new Error('expected a UsageError');
    };
    const rule = "a migration id is migrate-<uuid> (the VM's UUID)";
    const byUuid = 'a VM whose name starts with migrate- is given by its UUID';

    it.each([
      ['migrate-1234-not-a-uuid', "'1234-not-a-uuid' is not a UUID (8-4-4-4-12 hexadecimal digits)"],
      ['migrate-xyz', "'xyz' is not a UUID (8-4-4-4-12 hexadecimal digits)"],
      ['migrate-web', "'web' is not a UUID (8-4-4-4-12 hexadecimal digits)"],
      [`migrate-${UUID}0`, `'${UUID}0' is not a UUID (8-4-4-4-12 hexadecimal digits)`],
      ['MIGRATE-xyz', "'xyz' is not a UUID (8-4-4-4-12 hexadecimal digits)"],
      ['migrate-', 'nothing follows migrate-'],
    ])('status/abort/force-complete/resume-recovery/set %s', (ref, problem) => {
      const err = refusal(() => parseMigrationRef(ref));
      expect(err.exitCode).toBe(EXIT.usage);
      expect(err.message).toBe(`migration '${ref}' is not a migration id: ${rule}, and ${problem}; ${byUuid}`);
    });

    it('history <vm> and list --vm, which take a migration id too', () => {
      expect(refusal(() => parseVmRef('migrate-1234-not-a-uuid')).message).toBe(
        `VM 'migrate-1234-not-a-uuid' is not a migration id: ${rule}, and '1234-not-a-uuid' is not a UUID (8-4-4-4-12 hexadecimal digits); ${byUuid}`,
      );
      expect(refusal(() => parseVmRef('migrate-xyz', '--vm')).message).toMatch(/^--vm 'migrate-xyz' is not a migration id: a migration id is migrate-<uuid>/);
      expect(refusal(() => parseVmRef('migrate-xyz', '--vm')).exitCode).toBe(EXIT.usage);
    });
  });

  it("what is none of them is a usage error that says what is allowed", () => {
    expect(() => parseMigrationRef("web 7'; DROP")).toThrow(UsageError);
    expect(() => parseMigrationRef("web 7'; DROP")).toThrow(/neither a migration id \(migrate-<uuid>\), a UUID, nor a VM name/);
    expect(() => parseMigrationRef('x'.repeat(65))).toThrow(UsageError);
  });

  it('a VM by name or UUID; a migration id names its VM', () => {
    expect(parseVmRef('web-7')).toEqual({ name: 'web-7' });
    expect(parseVmRef(UUID.toUpperCase())).toEqual({ uuid: UUID });
    expect(parseVmRef(`migrate-${UUID}`)).toEqual({ uuid: UUID });
    expect(() => parseVmRef("o'brien", '--vm')).toThrow(/^--vm 'o'brien' is neither/);
  });

  it('host names', () => {
    expect(parseHostName('host-b', '--host')).toBe('host-b');
    expect(() => parseHostName("host-b' OR 1=1", '--host')).toThrow(/--host .* is not a host name/);
  });
});
