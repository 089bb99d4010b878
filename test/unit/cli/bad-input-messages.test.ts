/**
 * The exact texts test/integration/bad-input.test.ts's patterns match (that file needs the lab):
 * the CLI's usage errors (64), found before anything is contacted; the workflow's refusals of a
 * bad request; the operator updates' validators. Each names the field (or the option that sets
 * it) and the rule. A pattern there is written against the text here: change both together.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as actions from '../../../client/commands/migration-actions';
import { UsageError } from '../../../client/errors';
import { EXIT } from '../../../client/exit-codes';
import { FerryClient } from '../../../client/ferry-client';
import {
  AbortInputSchema, assertValid, ForceCompleteInputSchema, parseMigrationRequest, ResumeRecoveryInputSchema, SetBandwidthInputSchema,
  SetMaxDowntimeInputSchema,
} from '../../../model/types';

const VM = 'bi-run-abc123';
const long = (n: number) => 'x'.repeat(n);
const clipped = `"${'x'.repeat(56)}...`;
const NAME_RULE = 'must be a libvirt domain name (letters, digits, _ . -) or a UUID';

beforeEach(() => {
  vi.spyOn(FerryClient, 'connect').mockRejectedValue(new Error('contacted Temporal: a usage error must be found before'));
});
afterEach(() => vi.restoreAllMocks());

describe('ferry: usage errors, before anything is contacted (bad-input cliRows with exit 64)', () => {
  it.each([
    ['negative bandwidth', () => actions.migrate(VM, { bandwidth: '-5' }), 'invalid migration request: --bandwidth: must be at least 1 (got -5)'],
    ['absurd bandwidth', () => actions.migrate(VM, { bandwidth: '99999999' }), 'invalid migration request: --bandwidth: must be at most 1000000 (got 99999999)'],
    ['fractional bandwidth', () => actions.migrate(VM, { bandwidth: '2.5' }), 'invalid migration request: --bandwidth: must be an integer (got 2.5)'],
    ['unknown strategy', () => actions.migrate(VM, { strategy: 'fastest' }), 'invalid migration request: --strategy: must be one of as-configured, auto (got "fastest")'],
    ['negative policy downtime', () => actions.migrate(VM, { policy: '{"downtime":{"maxMs":-1}}' }),
      'invalid migration request: --policy downtime.maxMs: must be at least 1 (got -1); ' +
        '--policy downtime: downtime.maxMs must be at least downtime.initialMs (with the defaults filled in)'],
    ['absurd policy margin', () => actions.migrate(VM, { policy: '{"stall":{"marginPct":500}}' }),
      'invalid migration request: --policy stall.marginPct: must be at most 50 (got 500)'],
    ['policy wrong type', () => actions.migrate(VM, { policy: '{"postcopy":{"allowed":"yes"}}' }),
      'invalid migration request: --policy postcopy.allowed: must be true or false (got "yes")'],
    ['policy unknown field', () => actions.migrate(VM, { policy: '{"colour":"blue"}' }),
      'invalid migration request: --policy colour: unknown field (allowed fields: strategy, postcopy, downtime, stall, completion, pause, placement, dataPath, admission, storage)'],
    ['policy not an object', () => actions.migrate(VM, { policy: '[1,2]' }), `--policy must be a JSON object, e.g. '{"postcopy":{"allowed":false}}'; got [1,2]`],
    ['oversized VM name', () => actions.migrate(long(300), {}), `invalid migration request: VM: must be at most 64 characters (got ${clipped})`],
    ['XML special chars in VM name', () => actions.migrate(`<vm&"'>`, {}), `invalid migration request: VM: ${NAME_RULE} (got "<vm&\\"'>")`],
    ['unicode VM name', () => actions.migrate('vm-ümlaut-😀', {}), `invalid migration request: VM: ${NAME_RULE} (got "vm-ümlaut-😀")`],
    ['XML special chars in host', () => actions.migrate(VM, { to: '<host&>' }),
      'invalid migration request: --to: must be a host name (letters, digits, _ . -; starting and ending with a letter or digit) (got "<host&>")'],
    ['malformed UUID as migration id', () => actions.status('migrate-1234-not-a-uuid', {}),
      "migration 'migrate-1234-not-a-uuid' is not a migration id: a migration id is migrate-<uuid> (the VM's UUID), and " +
        "'1234-not-a-uuid' is not a UUID (8-4-4-4-12 hexadecimal digits); a VM whose name starts with migrate- is given by its UUID"],
    ['set: negative max downtime', () => actions.set(VM, { maxDowntime: '-1' }), '--max-downtime: must be at least 1 (got -1)'],
    ['set: zero bandwidth', () => actions.set(VM, { bandwidth: '0' }), '--bandwidth: must be at least 1 (got 0)'],
    ['abort with an oversized reason', () => actions.abort(VM, { reason: long(2000) }), `--reason: must be at most 1024 characters (got ${clipped})`],
  ])('%s', async (_label, run, message) => {
    const err = await run().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(EXIT.usage);
    expect((err as UsageError).message).toBe(message);
    expect(FerryClient.connect).not.toHaveBeenCalled();
  });

  it.each([
    ['force-complete', () => actions.forceComplete('migrate-xyz', {})],
    ['resume-recovery', () => actions.resumeRecovery('migrate-xyz', {})],
    ['abort', () => actions.abort('migrate-xyz', {})],
    ['set', () => actions.set('migrate-xyz', { bandwidth: '5' })],
    ['history', () => actions.history('migrate-xyz', {})],
    ['list --vm', () => actions.list({ vm: 'migrate-xyz' })],
  ])('%s migrate-xyz: the same refusal of a malformed migration id', async (_command, run) => {
    const err = await run().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toMatch(/^(migration|VM|--vm) 'migrate-xyz' is not a migration id: a migration id is migrate-<uuid> \(the VM's UUID\), and 'xyz' is not a UUID/);
    expect(FerryClient.connect).not.toHaveBeenCalled();
  });
});

describe("the workflow's refusal of a bad request (bad-input rawRows refused at its boundary)", () => {
  const refusal = (input: unknown) => {
    const r = parseMigrationRequest(input);
    if (r.ok) throw new Error('expected a refusal');
    return r.error;
  };
  it.each([
    ['destination = source', { vm: VM, source: 'host-a', destination: 'host-a' }, 'destination.host: must differ from source (both are "host-a") (got "host-a")'],
    ['vm of the wrong type', { vm: 12345 }, 'vm: must be a string: a libvirt domain name or UUID (got 12345)'],
    ['unknown field', { vm: VM, colour: 'blue' }, 'colour: unknown field (allowed fields: vm, source, destination, policy, bandwidthMiBps, requestedBy, reservation, admittedBy)'],
    ['negative bandwidth', { vm: VM, bandwidthMiBps: -1 }, 'bandwidthMiBps: must be at least 1 (got -1)'],
    ['absurd bandwidth', { vm: VM, bandwidthMiBps: 1e12 }, 'bandwidthMiBps: must be at most 1000000 (got 1000000000000)'],
    ['bandwidth of the wrong type', { vm: VM, bandwidthMiBps: 'fast' }, 'bandwidthMiBps: must be a number (got "fast")'],
    ['policy initial above max', { vm: VM, policy: { downtime: { initialMs: 5000 } } },
      'policy.downtime: downtime.maxMs must be at least downtime.initialMs (with the defaults filled in)'],
    ['policy negative window', { vm: VM, policy: { stall: { windowMs: -5 } } }, 'policy.stall.windowMs: must be at least 1000 (got -5)'],
    ['policy bad enum', { vm: VM, policy: { completion: { action: 'explode' } } }, 'policy.completion.action: must be one of abort, force-complete (got "explode")'],
    ['destination mode bad enum', { vm: VM, destination: { host: 'host-b', mode: 'sideways' } }, 'destination.mode: must be one of force, check (got "sideways")'],
    ['oversized VM name', { vm: long(65) }, `vm: must be at most 64 characters (got ${clipped})`],
    ['oversized requestedBy', { vm: VM, requestedBy: long(300) }, `requestedBy: must be at most 256 characters (got ${clipped})`],
    ['XML special chars in VM name', { vm: `<vm&"'>` }, `vm: ${NAME_RULE} (got "<vm&\\"'>")`],
    ['unicode VM name', { vm: 'vm-ümlaut-😀' }, `vm: ${NAME_RULE} (got "vm-ümlaut-😀")`],
    ['XML special chars in host', { vm: VM, destination: '<host&>' },
      'destination.host: must be a host name (letters, digits, _ . -; starting and ending with a letter or digit) (got "<host&>")'],
    ['input not an object', 'just a string', 'input: must be an object { vm, source?, destination?, policy?, bandwidthMiBps?, requestedBy? } (got "just a string")'],
  ])('%s', (_label, input, issue) => {
    expect(refusal(input)).toBe(`invalid migration request: ${issue}`);
  });
});

describe("the operator updates' validators (bad-input updateRows)", () => {
  const refusal = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('expected a refusal');
  };
  // What workflows/operator-handlers.ts passes: the raw input (?? {} for abort, forceComplete, resumeRecovery) and its name.
  it.each([
    ['setMaxDowntime negative', () => assertValid(SetMaxDowntimeInputSchema, { ms: -1 }, 'setMaxDowntime input'), 'invalid setMaxDowntime input: ms: must be at least 1 (got -1)'],
    ['setMaxDowntime wrong type', () => assertValid(SetMaxDowntimeInputSchema, { ms: 'x' }, 'setMaxDowntime input'), 'invalid setMaxDowntime input: ms: must be a number (got "x")'],
    ['setMaxDowntime fractional', () => assertValid(SetMaxDowntimeInputSchema, { ms: 1.5 }, 'setMaxDowntime input'), 'invalid setMaxDowntime input: ms: must be an integer (got 1.5)'],
    ['setMaxDowntime absurd', () => assertValid(SetMaxDowntimeInputSchema, { ms: 1e12 }, 'setMaxDowntime input'),
      'invalid setMaxDowntime input: ms: must be at most 2000000 (got 1000000000000)'],
    ['setMaxDowntime unknown field', () => assertValid(SetMaxDowntimeInputSchema, { ms: 100, now: true }, 'setMaxDowntime input'),
      'invalid setMaxDowntime input: now: unknown field (allowed fields: ms)'],
    ['setBandwidth empty', () => assertValid(SetBandwidthInputSchema, {}, 'setBandwidth input'), 'invalid setBandwidth input: mibps: is required (must be a number)'],
    ['setBandwidth zero', () => assertValid(SetBandwidthInputSchema, { mibps: 0 }, 'setBandwidth input'), 'invalid setBandwidth input: mibps: must be at least 1 (got 0)'],
    ['setBandwidth negative', () => assertValid(SetBandwidthInputSchema, { mibps: -40 }, 'setBandwidth input'), 'invalid setBandwidth input: mibps: must be at least 1 (got -40)'],
    ['abort reason of the wrong type', () => assertValid(AbortInputSchema, { reason: 5 }, 'abort input'), 'invalid abort input: reason: must be a string (got 5)'],
    ['abort oversized reason', () => assertValid(AbortInputSchema, { reason: long(2000) }, 'abort input'),
      `invalid abort input: reason: must be at most 1024 characters (got ${clipped})`],
    ['forceComplete with a field', () => assertValid(ForceCompleteInputSchema, { now: true }, 'force-complete input'),
      'invalid force-complete input: now: unknown field (allowed fields: none)'],
    ['resumeRecovery not an object', () => assertValid(ResumeRecoveryInputSchema, [1], 'resumeRecovery input'),
      'invalid resumeRecovery input: input: must be an empty object {} (got [1])'],
  ])('%s', (_label, run, message) => {
    expect(refusal(run)).toBe(message);
  });
});
