import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../client/errors';
import { parseHostName, parseMigrationRef, parseVmRef } from '../../../client/refs';

const UUID = '3435ec0c-1a4a-4471-aca0-b5a61da8370c';

describe('what an operator may type for a migration or a VM', () => {
  it('a workflow id is used as is; a UUID (any case) becomes migrate-<uuid>', () => {
    expect(parseMigrationRef(`migrate-${UUID}`)).toEqual({ kind: 'id', workflowId: `migrate-${UUID}` });
    expect(parseMigrationRef(UUID)).toEqual({ kind: 'id', workflowId: `migrate-${UUID}` });
    expect(parseMigrationRef(UUID.toUpperCase())).toEqual({ kind: 'id', workflowId: `migrate-${UUID}` });
    expect(parseMigrationRef(`migrate-${UUID.toUpperCase()}`)).toEqual({ kind: 'id', workflowId: `migrate-${UUID}` });
  });

  it('anything else that is a VM name is looked up by name (even one that starts with migrate-)', () => {
    expect(parseMigrationRef('web-7')).toEqual({ kind: 'name', name: 'web-7' });
    expect(parseMigrationRef('migrate-web')).toEqual({ kind: 'name', name: 'migrate-web' });
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
