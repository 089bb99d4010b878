/**
 * Plain QEMU processes for guest-level tests (no libvirt, no lab): start the lab guest with a
 * disk, talk QMP over a unix socket, end the process by its PID. Each process belongs to the test
 * that started it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import fs from 'node:fs';

export const QEMU = 'qemu-system-x86_64';

/** Throws, naming the package to install, when QEMU is not on PATH. */
export function requireQemu(): void {
  const r = spawnSync(QEMU, ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(`${QEMU} is needed to run the lab guest in these tests and was not found: apt-get install qemu-system-x86`);
  }
}

export interface PlainQemu {
  pid: number;
  proc: ChildProcess;
  qmp: Qmp;
  stderr: () => string;
}

export interface PlainQemuOptions {
  kernel: string;
  append: string;
  image: string;
  serialLog: string;
  qmpSocket: string;
  /** The whole -drive argument instead of the plain raw image (e.g. a blkdebug filter). */
  drive?: string;
  /** Wait for an incoming migration on this loopback port. */
  incomingPort?: number;
}

/** A small QMP client: one command at a time; events are kept, in order, in `events`. */
export class Qmp {
  readonly events: Array<{ event: string; data?: Record<string, unknown> }> = [];
  private buf = '';
  private waiters: Array<(msg: Record<string, unknown>) => void> = [];
  private constructor(private readonly sock: net.Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const text = this.buf.slice(0, nl).trim();
        this.buf = this.buf.slice(nl + 1);
        if (!text) continue;
        const msg = JSON.parse(text) as Record<string, unknown>;
        if ('event' in msg) {
          this.events.push({ event: String(msg.event), data: msg.data as Record<string, unknown> | undefined });
          continue;
        }
        this.waiters.shift()?.(msg);
      }
    });
  }

  static async connect(path: string, timeoutMs = 10_000): Promise<Qmp> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const sock = await new Promise<net.Socket>((resolve, reject) => {
          const s = net.createConnection(path, () => resolve(s));
          s.once('error', reject);
        });
        const qmp = new Qmp(sock);
        await qmp.next(); // the greeting
        await qmp.execute('qmp_capabilities');
        return qmp;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`QMP socket ${path} did not answer: ${String(err)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  private next(): Promise<Record<string, unknown>> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    const reply = this.next();
    this.sock.write(JSON.stringify(args ? { execute: command, arguments: args } : { execute: command }) + '\n');
    const msg = await reply;
    if ('error' in msg) throw new Error(`QMP ${command}: ${JSON.stringify(msg.error)}`);
    return msg.return;
  }

  close(): void {
    this.sock.destroy();
  }
}

/** Starts the guest under TCG, machine pc, the image as the primary IDE master with cache=none. */
export async function startPlainQemu(o: PlainQemuOptions): Promise<PlainQemu> {
  fs.rmSync(o.qmpSocket, { force: true });
  const args = [
    '-machine', 'pc', '-accel', 'tcg', '-m', '64', '-display', 'none', '-monitor', 'none', '-nodefaults',
    '-kernel', o.kernel, '-append', o.append,
    '-drive', o.drive ?? `file=${o.image},format=raw,if=ide,index=0,media=disk,cache=none`,
    '-serial', `file:${o.serialLog}`,
    '-qmp', `unix:${o.qmpSocket},server=on,wait=off`,
    ...(o.incomingPort !== undefined ? ['-incoming', `tcp:127.0.0.1:${o.incomingPort}`] : []),
  ];
  const proc = spawn(QEMU, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  if (proc.pid === undefined) throw new Error(`${QEMU} did not start`);
  const exited = new Promise<never>((_, reject) => proc.once('exit', (code) => reject(new Error(`${QEMU} exited (${code}): ${err}`))));
  exited.catch(() => undefined);
  const qmp = await Promise.race([Qmp.connect(o.qmpSocket), exited]);
  return { pid: proc.pid, proc, qmp, stderr: () => err };
}

/** Ends a QEMU this test started, by its PID, and waits for it to go. */
export async function stopPlainQemu(q: PlainQemu | undefined): Promise<void> {
  if (!q) return;
  q.qmp.close();
  if (q.proc.exitCode !== null || q.proc.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => q.proc.once('exit', () => resolve()));
  process.kill(q.pid, 'SIGTERM');
  await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
  if (q.proc.exitCode === null && q.proc.signalCode === null) process.kill(q.pid, 'SIGKILL');
}

/** A free loopback TCP port (asked of the kernel, then released for QEMU to take). */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}
