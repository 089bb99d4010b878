// ferry-env: names retired variables on purpose (the registry scan in test/unit/config skips this file).
/**
 * The CLI refuses an unknown FERRY_* variable before any command runs, as a bad configuration
 * (exit 69), naming the variable and what it probably meant; --help still prints (the list of
 * settings is where the fix is found).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildCli } from '../../../client/cli';
import { UnavailableError } from '../../../client/errors';
import { EXIT } from '../../../client/exit-codes';

const root = path.resolve(__dirname, '../../..');
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('an unknown FERRY_* variable stops every command before it runs', () => {
  it('in process: an UnavailableError (exit 69) naming it; the command did not run', async () => {
    vi.stubEnv('FERRY_HOST_FILE', 'hosts.json');
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = await buildCli().parseAsync(['node', 'ferry', 'schema']).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as UnavailableError).exitCode).toBe(EXIT.unavailable);
    expect((err as Error).message).toBe('bad configuration: FERRY_HOST_FILE: unknown; did you mean FERRY_HOSTS_FILE?');
    expect(write).not.toHaveBeenCalled(); // `ferry schema` prints its schema: it never ran
  });

  it('--help is still printed', async () => {
    vi.stubEnv('FERRY_HOST_FILE', 'hosts.json');
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = await buildCli().parseAsync(['node', 'ferry', '--help']).then(() => undefined, (e: unknown) => e);
    expect((err as { exitCode?: number }).exitCode).toBe(0);
    expect(write.mock.calls.map((c) => String(c[0])).join('')).toContain('FERRY_HOSTS_FILE');
  });

  it('the real process: exit 69, the message on stderr, a retired variable named with its TEMPORAL_* replacement', () => {
    const env = { ...process.env, FERRY_TEMPORAL_ADDRESS: '127.0.0.1:7233', FERRY_FROM_SOURCE: '1' };
    const r = spawnSync(process.execPath, [path.join(root, 'bin', 'ferry'), 'list'], { cwd: root, env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(EXIT.unavailable);
    expect(r.stderr).toBe(
      "ferry: unavailable: bad configuration: FERRY_TEMPORAL_ADDRESS is not a ferry setting: Temporal's own TEMPORAL_ADDRESS is read instead\n",
    );
  });
});
