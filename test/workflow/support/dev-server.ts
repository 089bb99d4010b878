/**
 * A Temporal dev server of the test's own: the lab's pinned CLI (never a download: when it is
 * missing, installedTemporalCli() fails saying `npx tsx lab/temporal.ts install`), on a free
 * loopback port, with its SQLite file in a temp dir and no search attribute registered. Stopped
 * by its PID; the lab's server is never touched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { installedTemporalCli, temporalAnswers } from '../../../lab/temporal';

export interface DevServer {
  address: string;
  dir: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function startDevServer(): Promise<DevServer> {
  const bin = installedTemporalCli();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-dev-server-'));
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const log = fs.openSync(path.join(dir, 'temporal.log'), 'a');
  const child: ChildProcess = spawn(
    bin,
    ['server', 'start-dev', '--db-filename', path.join(dir, 'temporal.sqlite'), '--ip', '127.0.0.1', '--port', String(port),
      '--headless', '--namespace', 'default', '--log-format', 'json', '--log-level', 'warn'],
    { cwd: dir, stdio: ['ignore', log, log] },
  );
  fs.closeSync(log);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  while (!(await temporalAnswers(address))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      const tail = fs.readFileSync(path.join(dir, 'temporal.log'), 'utf8').slice(-2000);
      await stop();
      throw new Error(`the test's Temporal dev server (pid ${child.pid}) did not answer on ${address}: ${tail}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { address, dir, stop };
}
