/**
 * The official Temporal server and its SQL schema tool, built from the Go module
 * go.temporal.io/server at the pinned version (versions.ts) into .tools/temporal-server-<v>/, once:
 * a build that is there (its marker names the version) is reused. The SQL schemas ship in the
 * same module and are read from Go's module cache at that version.
 *
 *   npx tsx stack/server-build.ts install | paths
 */
import fs from 'node:fs';
import path from 'node:path';
import { toolsDir } from '../lab/paths';
import { run } from '../lab/proc';
import { TEMPORAL_SERVER_MODULE, TEMPORAL_SERVER_VERSION } from './versions';

/** Where Go is unpacked by its official archive (this image's), and Debian's golang-go. */
const GO_CANDIDATES = ['/usr/local/go/bin/go', '/usr/lib/go/bin/go'];

export interface TemporalServerBuild {
  /** The server (cmd/server). */
  server: string;
  /** The SQL schema tool (cmd/tools/sql): temporal-sql-tool. */
  sqlTool: string;
  /** schema/postgresql/v12 of the module at the pinned version: temporal/ and visibility/ below it. */
  postgresSchemaDir: string;
}

function buildDir(): string {
  return path.join(toolsDir(), `temporal-server-${TEMPORAL_SERVER_VERSION}`);
}

function markerPath(): string {
  return path.join(buildDir(), 'installed.json');
}

interface Marker {
  version: string;
  goVersion: string;
  moduleDir: string;
  seconds: number;
}

/** The build when it is there and complete, else an error saying how to build it. Never builds. */
export function installedTemporalServer(): TemporalServerBuild {
  const dir = buildDir();
  let marker: Marker | undefined;
  try {
    marker = JSON.parse(fs.readFileSync(markerPath(), 'utf8')) as Marker;
  } catch {
    /* not built */
  }
  const build = {
    server: path.join(dir, 'temporal-server'),
    sqlTool: path.join(dir, 'temporal-sql-tool'),
    postgresSchemaDir: path.join(marker?.moduleDir ?? '', 'schema', 'postgresql', 'v12'),
  };
  const ok =
    marker?.version === TEMPORAL_SERVER_VERSION &&
    [build.server, build.sqlTool].every((f) => isExecutable(f)) &&
    fs.existsSync(path.join(build.postgresSchemaDir, 'temporal', 'versioned')) &&
    fs.existsSync(path.join(build.postgresSchemaDir, 'visibility', 'versioned'));
  if (!ok) {
    throw new Error(
      `the Temporal server ${TEMPORAL_SERVER_VERSION} is not built at ${dir} (or its schemas left Go's module cache). ` +
        'Build it once with `npx tsx stack/server-build.ts install` (Go >= 1.26.8; ~10 min on 2 cores the first time).',
    );
  }
  return build;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The Go toolchain: /usr/local/go's (this image's), else the first `go` on PATH; an error says what to install. */
export function goBinary(): string {
  for (const c of GO_CANDIDATES) if (isExecutable(c)) return c;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) if (dir && isExecutable(path.join(dir, 'go'))) return path.join(dir, 'go');
  throw new Error(
    `no Go toolchain (looked in ${GO_CANDIDATES.join(', ')} and PATH): the Temporal server ${TEMPORAL_SERVER_VERSION} is built from its Go module and needs Go >= 1.26.8 (https://go.dev/dl/, unpacked into /usr/local/go)`,
  );
}

/**
 * Builds the server and the schema tool unless built already. `go install` of a module at a
 * version is verified by Go's checksum database; GOTOOLCHAIN=local: never fetch another Go.
 */
export async function ensureTemporalServer(say: (line: string) => void = () => undefined): Promise<TemporalServerBuild> {
  try {
    return installedTemporalServer();
  } catch {
    /* build below */
  }
  const go = goBinary();
  const t0 = Date.now();
  const work = `${buildDir()}.partial-${process.pid}`;
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  try {
    const env = { ...process.env, GOBIN: work, CGO_ENABLED: '0', GOFLAGS: '-modcacherw', GOTOOLCHAIN: 'local' };
    const at = `@v${TEMPORAL_SERVER_VERSION}`;
    say(`building ${TEMPORAL_SERVER_MODULE}${at} (cmd/server, cmd/tools/sql) with ${go}; ~10 min on 2 cores the first time`);
    await run(go, ['install', `${TEMPORAL_SERVER_MODULE}/cmd/server${at}`, `${TEMPORAL_SERVER_MODULE}/cmd/tools/sql${at}`], {
      env,
      timeoutMs: 60 * 60_000,
    });
    const moduleDir = JSON.parse(
      await run(go, ['mod', 'download', '-json', `${TEMPORAL_SERVER_MODULE}${at}`], { env, timeoutMs: 10 * 60_000 }),
    ) as { Dir?: string };
    if (!moduleDir.Dir) throw new Error(`go mod download did not name the module's directory for ${TEMPORAL_SERVER_MODULE}${at}`);
    // The binaries are named after their package folders (server, sql): give them their own names.
    const server = path.join(work, 'server');
    const info = await run(go, ['version', '-m', server], { env, timeoutMs: 30_000 });
    if (!new RegExp(`\\bmod\\s+${TEMPORAL_SERVER_MODULE.replace(/\./g, '\\.')}\\s+v${TEMPORAL_SERVER_VERSION.replace(/\./g, '\\.')}\\b`).test(info)) {
      throw new Error(`go install built an unexpected server: ${info.slice(0, 300)}`);
    }
    const goVersion = (await run(go, ['env', 'GOVERSION'], { env, timeoutMs: 30_000 })).trim();
    fs.mkdirSync(buildDir(), { recursive: true });
    fs.renameSync(server, path.join(buildDir(), 'temporal-server'));
    fs.renameSync(path.join(work, 'sql'), path.join(buildDir(), 'temporal-sql-tool'));
    const marker: Marker = { version: TEMPORAL_SERVER_VERSION, goVersion, moduleDir: moduleDir.Dir, seconds: Math.round((Date.now() - t0) / 1000) };
    fs.writeFileSync(markerPath(), JSON.stringify(marker, null, 2) + '\n');
    say(`built in ${marker.seconds} s`);
    return installedTemporalServer();
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

async function main(cmd: string | undefined): Promise<void> {
  switch (cmd) {
    case 'install': {
      const t0 = Date.now();
      const b = await ensureTemporalServer((l) => console.error(l));
      console.log(`${b.server} (${TEMPORAL_SERVER_VERSION}) ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      return;
    }
    case 'paths':
      console.log(JSON.stringify(installedTemporalServer(), null, 2));
      return;
    default:
      throw new Error('usage: stack/server-build.ts install|paths');
  }
}

if (require.main === module) {
  main(process.argv[2]).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
