/**
 * The stack's own PostgreSQL cluster: Debian's PostgreSQL server (POSTGRES_MAJOR), a data dir
 * under the stack's dir, listening on 127.0.0.1:STACK_PORTS.postgres only (no unix socket), with
 * password authentication. Run as the `postgres` system user when we are root (postgres refuses
 * root). Stopped by the postmaster's PID, and only while that PID is still our postmaster.
 */
import fs from 'node:fs';
import path from 'node:path';
import { assertPortFree } from '../lab/ports';
import { isAlive, run, sleep, waitFor } from '../lab/proc';
import { POSTGRES_MAJOR, STACK_DB_USER, STACK_PORTS } from './versions';

export const POSTGRES_BIN = `/usr/lib/postgresql/${POSTGRES_MAJOR}/bin`;
const PACKAGE = `postgresql-${POSTGRES_MAJOR}`;
const HOST = '127.0.0.1';
/** The system user that owns the cluster when we run as root. */
const SYSTEM_USER = 'postgres';

export interface PostgresSecrets {
  superuserPassword: string;
  temporalPassword: string;
}

function files(dir: string) {
  return { data: path.join(dir, 'data'), log: path.join(dir, 'postgres.log'), pwfile: path.join(dir, 'pwfile') };
}

/** Installs Debian's PostgreSQL server with apt when it is missing (root only). */
export async function ensurePostgresInstalled(say: (line: string) => void): Promise<void> {
  if (fs.existsSync(path.join(POSTGRES_BIN, 'initdb')) && fs.existsSync(path.join(POSTGRES_BIN, 'postgres'))) return;
  if (process.getuid?.() !== 0) throw new Error(`PostgreSQL ${POSTGRES_MAJOR} is not installed (${POSTGRES_BIN}/initdb): apt-get install -y --no-install-recommends ${PACKAGE}`);
  say(`installing ${PACKAGE} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update', '-qq'], { env, timeoutMs: 600_000 });
  await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', PACKAGE], { env, timeoutMs: 900_000 });
}

/** As the cluster's owner: the postgres system user when we are root, else ourselves. */
function asOwner(cmd: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', SYSTEM_USER, '--', cmd, ...args]] : [cmd, args];
}

async function runAsOwner(cmd: string, args: string[], timeoutMs = 120_000): Promise<string> {
  const [c, a] = asOwner(cmd, args);
  return run(c, a, { timeoutMs });
}

function chownToOwner(target: string): void {
  if (process.getuid?.() !== 0) return;
  const { uid, gid } = systemUser();
  fs.chownSync(target, uid, gid);
}

function systemUser(): { uid: number; gid: number } {
  const line = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${SYSTEM_USER}:`));
  if (!line) throw new Error(`no '${SYSTEM_USER}' system user (Debian's ${PACKAGE} creates it): apt-get install ${PACKAGE}`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** The postmaster's PID when it runs on our data dir (postmaster.pid names it; /proc confirms). */
export function postmasterPid(dir: string): number | undefined {
  const f = files(dir);
  try {
    const pid = Number.parseInt(fs.readFileSync(path.join(f.data, 'postmaster.pid'), 'utf8').split('\n')[0]!, 10);
    if (!Number.isFinite(pid) || !isAlive(pid)) return undefined;
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmdline[0]?.endsWith('/postgres') && cmdline.includes(f.data) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** initdb once (scram-sha-256 for every connection), then start; reuses ours when it runs. */
export async function startPostgres(dir: string, secrets: PostgresSecrets): Promise<{ pid: number; reused: boolean }> {
  const f = files(dir);
  const running = postmasterPid(dir);
  if (running !== undefined) return { pid: running, reused: true };
  // The cluster's owner must reach its dir: the stack's dir is traversable (0711), never listable.
  fs.chmodSync(path.dirname(dir), 0o711);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  chownToOwner(dir);
  if (!fs.existsSync(path.join(f.data, 'PG_VERSION'))) {
    fs.rmSync(f.data, { recursive: true, force: true });
    fs.writeFileSync(f.pwfile, `${secrets.superuserPassword}\n`, { mode: 0o600 });
    chownToOwner(f.pwfile);
    try {
      await runAsOwner(path.join(POSTGRES_BIN, 'initdb'), [
        '-D', f.data, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${f.pwfile}`, '--encoding=UTF8', '--locale=C.UTF-8',
      ]);
    } finally {
      fs.rmSync(f.pwfile, { force: true });
    }
  }
  await assertPortFree(STACK_PORTS.postgres, 'the stack\'s PostgreSQL', 'STACK_PORTS.postgres in stack/versions.ts');
  const options = `-c listen_addresses=${HOST} -p ${STACK_PORTS.postgres} -c unix_socket_directories=`;
  await runAsOwner(path.join(POSTGRES_BIN, 'pg_ctl'), ['-D', f.data, '-l', f.log, '-o', options, '-w', '-t', '60', 'start'], 90_000);
  const pid = await waitFor('the PostgreSQL postmaster PID', () => postmasterPid(dir), { timeoutMs: 10_000 });
  await ensureTemporalRole(secrets);
  return { pid, reused: false };
}

/** psql as the superuser over TCP (the password from the environment, never on a command line). */
export async function psql(secrets: PostgresSecrets, sql: string, database = 'postgres'): Promise<string> {
  return run(path.join(POSTGRES_BIN, 'psql'), ['-h', HOST, '-p', String(STACK_PORTS.postgres), '-U', 'postgres', '-d', database, '-v', 'ON_ERROR_STOP=1', '-tAc', sql], {
    env: { ...process.env, PGPASSWORD: secrets.superuserPassword, PGCONNECT_TIMEOUT: '5' },
    timeoutMs: 30_000,
  });
}

/** Temporal's login role: may create its databases (the schema tool's create-database does). */
async function ensureTemporalRole(secrets: PostgresSecrets): Promise<void> {
  const pw = secrets.temporalPassword.replace(/'/g, "''");
  await psql(secrets, `DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${STACK_DB_USER}') THEN CREATE ROLE ${STACK_DB_USER} LOGIN CREATEDB PASSWORD '${pw}';
    ELSE ALTER ROLE ${STACK_DB_USER} LOGIN CREATEDB PASSWORD '${pw}'; END IF; END $$;`);
}

export async function databaseExists(secrets: PostgresSecrets, name: string): Promise<boolean> {
  return (await psql(secrets, `SELECT 1 FROM pg_database WHERE datname = '${name.replace(/'/g, "''")}'`)).trim() === '1';
}

/** Fast shutdown (SIGINT to the postmaster: running transactions are rolled back, data is safe). */
export async function stopPostgres(dir: string, graceMs = 30_000): Promise<void> {
  const pid = postmasterPid(dir);
  if (pid === undefined) return;
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
}
