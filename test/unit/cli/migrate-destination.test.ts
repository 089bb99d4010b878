/**
 * `ferry migrate VM --to <the host VM runs on>`: once a worker has located the VM, the CLI (and the
 * typed client) refuse the request as a usage error (64) naming `--to` (`destination.host`) and the
 * rule, before anything starts. The Temporal side is a fake: FerryClient.connect answers a client
 * whose locateVm answer is scripted, and the typed client's own Temporal client records its starts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as actions from '../../../client/commands/migration-actions';
import type { ClientConfig } from '../../../client/config';
import { UsageError } from '../../../client/errors';
import { EXIT } from '../../../client/exit-codes';
import { FerryClient, type LocatedVm } from '../../../client/ferry-client';
import { reportError } from '../../../client/output';
import { refuseDestinationIsSource, ValidatedRequest } from '../../../client/request';

const UUID = '3435ec0c-1a4a-4471-aca0-b5a61da8370c';
const located: LocatedVm = { uuid: UUID, name: 'web-7', host: 'host-c', hosts: ['host-a', 'host-c'] };
const CLI_MESSAGE = "invalid migration request: --to: must differ from the source host 'host-c' (the VM runs there)";
const CLIENT_MESSAGE = "invalid migration request: destination.host: must differ from the source host 'host-c' (the VM runs there)";

afterEach(() => vi.restoreAllMocks());

/** A FerryClient whose Temporal side is scripted: the VM runs on host-c; starts are recorded. */
function fakeTemporal() {
  const fake = {
    ensureWorker: vi.fn(async () => undefined),
    // Never migrated before: the CLI asks a worker where the VM runs (client/migration-start.ts).
    lastKnownVmUuid: vi.fn(async (_name: string) => null),
    findRunningVm: vi.fn(async (_vm: string) => located),
    startMigration: vi.fn(async () => ({ workflowId: `migrate-${UUID}`, firstExecutionRunId: 'run-1' })),
    close: vi.fn(async () => undefined),
  };
  vi.spyOn(FerryClient, 'connect').mockResolvedValue(fake as unknown as FerryClient);
  return fake;
}

async function refusal(p: Promise<unknown>): Promise<UsageError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  if (!(err instanceof UsageError)) throw new Error(`expected a UsageError, got ${String(err)}`);
  return err;
}

describe('ferry migrate --to the host the VM runs on', () => {
  it.each([
    ['--to', { to: 'host-c' }],
    ['--to --force', { to: 'host-c', force: true }],
    ['--to --detach', { to: 'host-c', detach: true }],
  ])('%s: exit 64 naming --to and the source host, after locateVm, before anything starts', async (_what, opts) => {
    const temporal = fakeTemporal();
    const err = await refusal(actions.migrate('web-7', opts));
    expect(err.exitCode).toBe(EXIT.usage);
    expect(err.message).toBe(CLI_MESSAGE);
    expect(err.details).toMatchObject({ source: 'host-c', issues: ["--to: must differ from the source host 'host-c' (the VM runs there)"] });
    expect(temporal.findRunningVm).toHaveBeenCalledWith('web-7');
    expect(temporal.startMigration).not.toHaveBeenCalled();
  });

  it('is reported as "ferry: usage: ..." on stderr, exit 64', async () => {
    fakeTemporal();
    const err = await refusal(actions.migrate('web-7', { to: 'host-c' }));
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => (lines.push(String(s)), true));
    expect(reportError(err, 'table')).toBe(64);
    expect(lines.join('')).toBe(`ferry: usage: ${CLI_MESSAGE}\n`);
  });

  it('another host starts the migration (the check refuses only the source)', async () => {
    const temporal = fakeTemporal();
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    await expect(actions.migrate('web-7', { to: 'host-a', detach: true })).resolves.toBe(EXIT.ok);
    expect(temporal.startMigration).toHaveBeenCalledTimes(1);
  });
});

describe('the typed client: startMigration with the located VM', () => {
  const config: ClientConfig = {
    address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'ferry',
    temporal: { namespace: 'default', origin: { address: 'default', namespace: 'default' }, profile: { name: 'default' } },
    origin: { address: 'default', namespace: 'default', taskQueue: 'default' },
  };
  /** A FerryClient on a Temporal client that records its starts (the constructor is private). */
  function typedClient() {
    const start = vi.fn(async (_type: string, o: { workflowId: string }) => ({ workflowId: o.workflowId, firstExecutionRunId: 'run-1' }));
    const Ctor = FerryClient as unknown as new (client: unknown, connection: unknown, config: ClientConfig) => FerryClient;
    return { client: new Ctor({ workflow: { start } }, {}, config), start };
  }

  it('refuses a destination that is the VM\'s host, naming destination.host and the rule; nothing starts', async () => {
    const { client, start } = typedClient();
    const err = await refusal(client.startMigration({ vm: 'web-7', destination: 'host-c' }, located));
    expect(err.message).toBe(CLIENT_MESSAGE);
    expect(start).not.toHaveBeenCalled();
  });

  it('starts migrate-<vm uuid> for another host', async () => {
    const { client, start } = typedClient();
    await client.startMigration({ vm: 'web-7', destination: { host: 'host-a', mode: 'force' } }, located);
    expect(start).toHaveBeenCalledWith('liveMigration', expect.objectContaining({ workflowId: `migrate-${UUID}` }));
  });

  it('refuseDestinationIsSource: no destination, or another one, passes', () => {
    expect(() => refuseDestinationIsSource(ValidatedRequest.from({ vm: 'web-7' }).value, 'host-c')).not.toThrow();
    expect(() => refuseDestinationIsSource(ValidatedRequest.from({ vm: 'web-7', destination: 'host-a' }).value, 'host-c')).not.toThrow();
    expect(() => refuseDestinationIsSource(ValidatedRequest.from({ vm: 'web-7', destination: 'host-c' }).value, 'host-c')).toThrow(CLIENT_MESSAGE);
  });
});
