/**
 * The physical limit's denominator: the bandwidth of the capped link, measured by a raw TCP
 * transfer from the source host's namespace to the destination's, over the same path (and the
 * same tbf cap) the migration stream takes, in the same run.
 */
import { spawn } from 'node:child_process';
import { hostNetns } from '../../lab/network';
import { sleep } from '../../lab/proc';

const SERVER = `
const net = require('net');
const [addr, port] = process.argv.slice(1);
const srv = net.createServer((s) => {
  let n = 0, t0 = 0;
  s.on('data', (b) => { if (!t0) t0 = process.hrtime.bigint(); n += b.length; });
  s.on('end', () => { const ns = Number(process.hrtime.bigint() - t0); console.log(JSON.stringify({ bytes: n, ns })); s.end(); srv.close(); });
});
srv.listen(Number(port), addr, () => console.log('listening'));
setTimeout(() => process.exit(2), 120000).unref();
`;

const CLIENT = `
const net = require('net');
const [addr, port, total] = process.argv.slice(1);
const chunk = Buffer.alloc(1 << 20, 0x5a);
const s = net.connect(Number(port), addr, () => {
  let left = Number(total);
  const pump = () => { while (left > 0) { const n = Math.min(left, chunk.length); left -= n; if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return s.once('drain', pump); } s.end(); };
  pump();
});
s.on('data', () => undefined);
setTimeout(() => process.exit(2), 120000).unref();
`;

function inNetns(ns: string, script: string, args: string[]) {
  return spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Bytes per second from `from` to `to` (host names, with their lab addresses), sending `bytes`. */
export async function measureLinkBps(from: string, to: { name: string; address: string }, bytes: number, port = 47_999): Promise<number> {
  const server = inNetns(hostNetns(to.name), SERVER, [to.address, String(port)]);
  let out = '';
  server.stdout.on('data', (b) => (out += b));
  for (let i = 0; i < 100 && !out.includes('listening'); i++) await sleep(50);
  if (!out.includes('listening')) {
    server.kill('SIGKILL');
    throw new Error(`bandwidth probe: no listener in ${to.name}`);
  }
  const client = inNetns(hostNetns(from), CLIENT, [to.address, String(port), String(bytes)]);
  const done = new Promise<void>((resolve) => server.on('exit', () => resolve()));
  await Promise.race([done, sleep(125_000)]);
  client.kill('SIGKILL');
  server.kill('SIGKILL');
  const line = out.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`bandwidth probe ${from} -> ${to.name}: no result`);
  const r = JSON.parse(line) as { bytes: number; ns: number };
  if (r.bytes < bytes) throw new Error(`bandwidth probe ${from} -> ${to.name}: got ${r.bytes} of ${bytes} bytes`);
  return r.bytes / (r.ns / 1e9);
}
