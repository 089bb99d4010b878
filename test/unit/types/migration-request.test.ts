import { describe, expect, it } from 'vitest';
import {
  deepPartialOverrides,
  isMigrationWorkflowId,
  malformedWorkflowIdRefusal,
  migrationWorkflowId,
  migrationWorkflowIdProblem,
  parseMigrationRequest,
  vmUuidFromWorkflowId,
} from '../../../model/types';
import { z } from 'zod';

const UUID = '6F1E2D3C-4B5A-4978-8695-A4B3C2D1E0F9';

function errorsOf(input: unknown): string[] {
  const result = parseMigrationRequest(input);
  if (result.ok) throw new Error(`expected a refusal, got ${JSON.stringify(result.value)}`);
  expect(result.error).toBe(`invalid migration request: ${result.issues.join('; ')}`);
  return result.issues;
}

describe('MigrationRequest: accepted forms', () => {
  it('needs only the VM; destination absent means "choose through Placement"', () => {
    expect(parseMigrationRequest({ vm: 'web-7' })).toEqual({ ok: true, value: { vm: 'web-7' } });
  });

  it('accepts a VM UUID as well as a name', () => {
    expect(parseMigrationRequest({ vm: UUID }).ok).toBe(true);
    expect(parseMigrationRequest({ vm: 'db_01.prod' }).ok).toBe(true);
  });

  it('reads the destination shorthand "host-b" as { host, mode: check }', () => {
    expect(parseMigrationRequest({ vm: 'web-7', destination: 'host-b' })).toEqual({
      ok: true,
      value: { vm: 'web-7', destination: { host: 'host-b', mode: 'check' } },
    });
  });

  it('accepts { host, mode } with either mode, and defaults mode to check', () => {
    for (const mode of ['force', 'check'] as const) {
      const result = parseMigrationRequest({ vm: 'web-7', destination: { host: 'host-b', mode } });
      expect(result).toEqual({ ok: true, value: { vm: 'web-7', destination: { host: 'host-b', mode } } });
    }
    const result = parseMigrationRequest({ vm: 'web-7', destination: { host: 'host-b' } });
    expect(result.ok && result.value.destination).toEqual({ host: 'host-b', mode: 'check' });
  });

  it('keeps policy overrides as given: the defaults are filled in where the policy is resolved', () => {
    const result = parseMigrationRequest({ vm: 'web-7', policy: { downtime: { maxMs: 500 } } });
    expect(result).toEqual({ ok: true, value: { vm: 'web-7', policy: { downtime: { maxMs: 500 } } } });
  });

  it('accepts every optional field together', () => {
    const input = {
      vm: 'web-7',
      source: 'host-a',
      destination: { host: 'host-b.example.org', mode: 'force' },
      policy: { postcopy: { allowed: false }, completion: { action: 'abort', minSeconds: 150 } },
      bandwidthMiBps: 1000,
      requestedBy: 'alice',
    };
    expect(parseMigrationRequest(input)).toEqual({ ok: true, value: input });
  });
});

describe('MigrationRequest: every refusal names the field and what is allowed', () => {
  const refusals: Array<[string, unknown, string]> = [
    ['missing vm', {}, 'vm: is required (must be a string: a libvirt domain name or UUID)'],
    ['vm not a string', { vm: 7 }, 'vm: must be a string: a libvirt domain name or UUID (got 7)'],
    ['empty vm', { vm: '' }, 'vm: must not be empty (got "")'],
    ['vm too long', { vm: 'v'.repeat(65) }, `vm: must be at most 64 characters (got "${'v'.repeat(56)}...)`],
    ['vm charset', { vm: 'web 7!' }, 'vm: must be a libvirt domain name (letters, digits, _ . -) or a UUID (got "web 7!")'],
    ['source charset', { vm: 'a', source: '-host' }, 'source: must be a host name (letters, digits, _ . -; starting and ending with a letter or digit) (got "-host")'],
    ['source type', { vm: 'a', source: 1 }, 'source: must be a string: a host name from the inventory (got 1)'],
    ['destination type', { vm: 'a', destination: 5 }, 'destination: must be a host name or an object { host, mode } (got 5)'],
    ['destination mode', { vm: 'a', destination: { host: 'b', mode: 'x' } }, 'destination.mode: must be one of force, check (got "x")'],
    ['destination host missing', { vm: 'a', destination: { mode: 'force' } }, 'destination.host: is required (must be a string: a host name from the inventory)'],
    ['destination shorthand charset', { vm: 'a', destination: 'host b' }, 'destination.host: must be a host name (letters, digits, _ . -; starting and ending with a letter or digit) (got "host b")'],
    ['destination = source', { vm: 'a', source: 'h1', destination: 'h1' }, 'destination.host: must differ from source (both are "h1") (got "h1")'],
    ['bandwidth zero', { vm: 'a', bandwidthMiBps: 0 }, 'bandwidthMiBps: must be at least 1 (got 0)'],
    ['bandwidth fraction', { vm: 'a', bandwidthMiBps: 1.5 }, 'bandwidthMiBps: must be an integer (got 1.5)'],
    ['bandwidth huge', { vm: 'a', bandwidthMiBps: 2_000_000 }, 'bandwidthMiBps: must be at most 1000000 (got 2000000)'],
    ['bandwidth string', { vm: 'a', bandwidthMiBps: '100' }, 'bandwidthMiBps: must be a number (got "100")'],
    ['requestedBy empty', { vm: 'a', requestedBy: '' }, 'requestedBy: must not be empty (got "")'],
    ['policy type', { vm: 'a', policy: 'fast' }, 'policy: must be an object of policy overrides, e.g. { "postcopy": { "allowed": false } } (got "fast")'],
    ['policy section type', { vm: 'a', policy: { postcopy: true } }, 'policy.postcopy: must be an object (got true)'],
    ['policy value type', { vm: 'a', policy: { postcopy: { allowed: 'no' } } }, 'policy.postcopy.allowed: must be true or false (got "no")'],
    ['policy value range', { vm: 'a', policy: { downtime: { maxMs: 3_000_000 } } }, 'policy.downtime.maxMs: must be at most 2000000 (got 3000000)'],
    ['policy enum', { vm: 'a', policy: { completion: { action: 'retry' } } }, 'policy.completion.action: must be one of abort, force-complete (got "retry")'],
    ['policy strategy', { vm: 'a', policy: { strategy: 'fastest' } }, 'policy.strategy: must be one of as-configured, auto (got "fastest")'],
    ['policy typo', { vm: 'a', policy: { postcopy: { alowed: false } } }, 'policy.postcopy.alowed: unknown field (allowed fields: allowed, afterIteration, when)'],
    ['policy unknown section', { vm: 'a', policy: { speed: {} } }, 'policy.speed: unknown field (allowed fields: strategy, postcopy, downtime, stall, completion, pause, placement, dataPath, admission, storage)'],
    ['policy that cannot resolve', { vm: 'a', policy: { downtime: { maxMs: 50 } } }, 'policy.downtime: downtime.maxMs must be at least downtime.initialMs (with the defaults filled in)'],
    ['not an object', 'web-7', 'input: must be an object { vm, source?, destination?, policy?, bandwidthMiBps?, requestedBy? } (got "web-7")'],
    ['null', null, 'input: must be an object { vm, source?, destination?, policy?, bandwidthMiBps?, requestedBy? } (got null)'],
  ];
  it.each(refusals)('%s', (_name, input, expected) => {
    expect(errorsOf(input)).toEqual([expected]);
  });

  it('refuses unknown fields by name, listing the allowed ones, at every level', () => {
    expect(errorsOf({ vm: 'a', dest: 'b', destination: { host: 'b', force: true } })).toEqual([
      'destination.force: unknown field (allowed fields: host, mode)',
      'dest: unknown field (allowed fields: vm, source, destination, policy, bandwidthMiBps, requestedBy, reservation, admittedBy)',
    ]);
  });

  it('reports every bad field at once, one line each', () => {
    const issues = errorsOf({ vm: '', source: 'a b', destination: { host: 'b', mode: 'x' }, bandwidthMiBps: -1, x: 1 });
    expect(issues.map((line) => line.split(':')[0])).toEqual(['vm', 'source', 'destination.mode', 'bandwidthMiBps', 'x']);
  });
});

describe('workflow id', () => {
  it('is migrate-<vm-uuid> in lower case', () => {
    expect(migrationWorkflowId(UUID)).toBe(`migrate-${UUID.toLowerCase()}`);
  });

  it('refuses what is not a UUID (a name cannot key the workflow: it may be reused)', () => {
    expect(() => migrationWorkflowId('web-7')).toThrow(/vm uuid: must be a UUID \(got "web-7"\)/);
  });

  it('round-trips and recognises its own ids only', () => {
    const id = migrationWorkflowId(UUID);
    expect(isMigrationWorkflowId(id)).toBe(true);
    expect(vmUuidFromWorkflowId(id)).toBe(UUID.toLowerCase());
    expect(isMigrationWorkflowId(`migrate-${UUID}`)).toBe(false);
    expect(isMigrationWorkflowId('migrate-web-7')).toBe(false);
    expect(isMigrationWorkflowId(`drain-${UUID.toLowerCase()}`)).toBe(false);
  });

  it('says what is wrong with an id that is none (null for one that is)', () => {
    const lower = UUID.toLowerCase();
    expect(migrationWorkflowIdProblem(`migrate-${lower}`)).toBeNull();
    expect(migrationWorkflowIdProblem('migrate-1234-not-a-uuid')).toBe("'1234-not-a-uuid' is not a UUID (8-4-4-4-12 hexadecimal digits)");
    expect(migrationWorkflowIdProblem('migrate-')).toBe('nothing follows migrate-');
    expect(migrationWorkflowIdProblem(`drain-${lower}`)).toBe(`'drain-${lower}' does not start with migrate-`);
    expect(migrationWorkflowIdProblem(`migrate-${UUID}`)).toBe(`it must be in lower case (migrate-${lower})`);
    expect(migrationWorkflowIdProblem(`MIGRATE-${UUID}`)).toBe(`'MIGRATE-${UUID}' does not start with migrate-`);
    expect(migrationWorkflowIdProblem(`MIGRATE-${UUID}`, { anyCase: true })).toBeNull();
    expect(migrationWorkflowIdProblem(`migrate-${'x'.repeat(100)}`)).toBe(`'${'x'.repeat(57)}...' is not a UUID (8-4-4-4-12 hexadecimal digits)`);
  });

  it("the workflow's refusal of a malformed id names the id, the rule, and the id to use when the request gives the VM's UUID", () => {
    expect(malformedWorkflowIdRefusal(`migrate-${UUID.toLowerCase()}`, 'web-7')).toBeNull();
    expect(malformedWorkflowIdRefusal('migrate-1234-not-a-uuid', 'web-7')).toBe(
      "workflow id 'migrate-1234-not-a-uuid' is not a migration id: a migration must run as workflow id migrate-<vm uuid>, " +
        "the UUID of the request's VM in lower case (so one VM has one migration at a time), and '1234-not-a-uuid' is not a UUID " +
        "(8-4-4-4-12 hexadecimal digits); start it again with --workflow-id migrate-<the UUID of VM 'web-7'>",
    );
    expect(malformedWorkflowIdRefusal(`migrate-${UUID}`, UUID)).toBe(
      `workflow id 'migrate-${UUID}' is not a migration id: a migration must run as workflow id migrate-<vm uuid>, ` +
        "the UUID of the request's VM in lower case (so one VM has one migration at a time), and it must be in lower case " +
        `(migrate-${UUID.toLowerCase()}); start it again with --workflow-id migrate-${UUID.toLowerCase()}`,
    );
  });
});

describe('deepPartialOverrides', () => {
  const Policy = z.object({
    postcopy: z.object({ allowed: z.boolean().default(true), afterIteration: z.number().int().default(1) }).default({ allowed: true, afterIteration: 1 }),
    completion: z.object({ action: z.enum(['abort', 'force-complete']).default('abort') }).default({ action: 'abort' }),
  });
  const Overrides = deepPartialOverrides(Policy);

  it('accepts any subset and fills in no defaults', () => {
    expect(Overrides.parse({})).toEqual({});
    expect(Overrides.parse({ postcopy: { allowed: false } })).toEqual({ postcopy: { allowed: false } });
  });

  it('still checks values and refuses unknown fields by name', () => {
    const result = Overrides.safeParse({ postcopy: { allowed: 'no', after: 2 }, completion: { action: 'retry' } });
    expect(result.success).toBe(false);
    const paths = result.error!.issues.map((issue) => [...issue.path, ...(issue.code === 'unrecognized_keys' ? issue.keys : [])].join('.'));
    expect(paths).toEqual(expect.arrayContaining(['postcopy.allowed', 'postcopy.after', 'completion.action']));
  });
});
