import path from 'node:path';
import { repoRoot } from '../lab/paths';

/**
 * Where the stack keeps its state: the PostgreSQL cluster, certificates, the server's config,
 * logs, PID files. Git-ignored (.stack/), or FERRY_STACK_DIR.
 */
export function stackDir(): string {
  return path.resolve(process.env.FERRY_STACK_DIR ?? path.join(repoRoot, '.stack'));
}

export function stackFiles() {
  const dir = stackDir();
  return {
    dir,
    state: path.join(dir, 'stack.json'),
    secrets: path.join(dir, 'secrets.json'),
    tlsDir: path.join(dir, 'tls'),
    pgDir: path.join(dir, 'postgres'),
    temporalDir: path.join(dir, 'temporal'),
    serverConfig: path.join(dir, 'temporal', 'config.yaml'),
    serverLog: path.join(dir, 'temporal', 'server.log'),
    serverPid: path.join(dir, 'temporal', 'server.pid'),
    placementDir: path.join(dir, 'placement'),
    workersDir: path.join(dir, 'workers'),
    hostsFile: path.join(dir, 'hosts.json'),
    /** The envconfig TOML (profile 'stack') that workers, `ferry` and `temporal` read. */
    clientConfig: path.join(dir, 'temporal.toml'),
  };
}
