/**
 * Temporal's databases on the stack's PostgreSQL, made and brought to the pinned server's schema
 * version by the official SQL schema tool (temporal-sql-tool, built with the server) from the
 * schema files of the same module version. Idempotent: an existing database is only updated.
 */
import path from 'node:path';
import { run } from '../lab/proc';
import { databaseExists, type PostgresSecrets } from './postgres';
import type { TemporalServerBuild } from './server-build';
import { SERVER_SETTINGS } from './server-config';
import { STACK_DATABASES, STACK_DB_USER, STACK_PORTS } from './versions';

export async function applySchemas(build: TemporalServerBuild, secrets: PostgresSecrets, say: (line: string) => void): Promise<void> {
  const targets = [
    { database: STACK_DATABASES.persistence, dir: path.join(build.postgresSchemaDir, 'temporal', 'versioned') },
    { database: STACK_DATABASES.visibility, dir: path.join(build.postgresSchemaDir, 'visibility', 'versioned') },
  ];
  for (const t of targets) {
    const tool = (args: string[]) =>
      run(build.sqlTool, ['--plugin', SERVER_SETTINGS.sqlPlugin, '--endpoint', '127.0.0.1', '--port', String(STACK_PORTS.postgres), '--user', STACK_DB_USER, '--database', t.database, ...args], {
        // The password through the tool's own variable: never on a command line (ps shows those).
        env: { ...process.env, SQL_PASSWORD: secrets.temporalPassword },
        timeoutMs: 300_000,
      });
    if (!(await databaseExists(secrets, t.database))) {
      say(`creating database ${t.database} and its schema (temporal-sql-tool)`);
      await tool(['create-database']);
      await tool(['setup-schema', '-v', '0.0']);
    }
    await tool(['update-schema', '-d', t.dir]);
  }
}
