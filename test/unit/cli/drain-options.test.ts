/**
 * `ferry drain` on bad input: a usage error (64) that names the option and what is allowed, found
 * before anything is contacted (FerryClient.connect must never be called).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { drainCommand, drainRequestFromOptions, release } from '../../../client/commands/drain-actions';
import { UsageError } from '../../../client/errors';
import { EXIT } from '../../../client/exit-codes';
import { FerryClient } from '../../../client/ferry-client';

beforeEach(() => {
  vi.spyOn(FerryClient, 'connect').mockRejectedValue(new Error('Temporal must not be contacted for bad input'));
});
afterEach(() => vi.restoreAllMocks());

async function usage(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  if (!(err instanceof UsageError)) throw new Error(`expected a UsageError, got ${String(err)}`);
  expect(err.exitCode).toBe(EXIT.usage);
  return err.message;
}

describe('ferry drain: bad input names the option', () => {
  it.each([
    [{ maxParallel: '0' }, /--max-parallel: must be at least 1/],
    [{ maxParallel: 'two' }, /--max-parallel must be a number, got 'two'/],
    [{ maxIntoHost: '1.5' }, /--max-into-host: must be an integer/],
    [{ maxCluster: '1000' }, /--max-cluster: must be at most 256/],
    [{ linkBandwidth: '0' }, /--link-bandwidth: must be at least 1/],
    [{ maxAttempts: '11' }, /--max-attempts: must be at most 10/],
    [{ retryAfter: '-1' }, /--retry-after: must be at least 0/],
  ])('%o', async (opts, message) => {
    expect(await usage(drainCommand('host-c', undefined, opts))).toMatch(message);
    expect(FerryClient.connect).not.toHaveBeenCalled();
  });

  it('a host that is no host name, and the forms that lack a host or take two', async () => {
    expect(await usage(drainCommand('host c', undefined, {}))).toMatch(/host 'host c' is not a host name/);
    expect(await usage(drainCommand('status', undefined, {}))).toMatch(/ferry drain status <host>: the host is missing/);
    expect(await usage(drainCommand('cancel', undefined, {}))).toMatch(/ferry drain cancel <host>: the host is missing/);
    expect(await usage(drainCommand('host-a', 'host-b', {}))).toMatch(/takes one host/);
    expect(await usage(release('-x', {}))).toMatch(/host '-x' is not a host name/);
  });

  it('options of one form are refused on another, by name', async () => {
    expect(await usage(drainCommand('host-c', undefined, { abortInFlight: true }))).toMatch(/--abort-in-flight does not apply to drain <host>/);
    expect(await usage(drainCommand('status', 'host-c', { maxParallel: '2' }))).toMatch(/--max-parallel does not apply to drain status/);
    expect(await usage(drainCommand('cancel', 'host-c', { dryRun: true }))).toMatch(/--dry-run does not apply to drain cancel/);
  });

  it('good options become the request the workflow validates the same way', () => {
    expect(drainRequestFromOptions('host-c', { maxParallel: '1', linkBandwidth: '200', maxAttempts: '2', dryRun: true })).toMatchObject({
      host: 'host-c', dryRun: true,
      limits: { maxParallel: 1, maxIntoHost: 2, maxClusterWide: 4, linkBandwidthMiBps: 200, moveBandwidthMiBps: null },
      retry: { maxAttempts: 2, initialBackoffSeconds: 30, maxBackoffSeconds: 600 },
    });
  });
});
