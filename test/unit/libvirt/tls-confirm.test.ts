/**
 * libvirt's remote protocol over TLS: after the handshake libvirtd sends one byte, 1, once it has
 * accepted the client's certificate, and closes the connection when it has not. The socket ferry's
 * client gets starts after that byte (read as a packet it would shift every frame), and a refusal
 * is an error that says what was refused. A TLS server on loopback plays libvirtd.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { socketFactoryFor } from '../../../activities/libvirt/uri';

let dir: string;
let cert: Buffer;
let key: Buffer;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-tls-unit-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
  ], { stdio: 'ignore' });
  cert = fs.readFileSync(path.join(dir, 'cert.pem'));
  key = fs.readFileSync(path.join(dir, 'key.pem'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A TLS server on loopback that greets each client with `greeting` (or closes at once when null). */
async function fakeLibvirtd(greeting: Buffer | null): Promise<{ port: number; close: () => void }> {
  const server = tls.createServer({ cert, key }, (s) => {
    if (greeting === null) s.destroy();
    else s.write(greeting);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

const connect = (port: number) => socketFactoryFor({ kind: 'tls', host: '127.0.0.1', port }, { tls: { ca: cert }, connectTimeoutMs: 5_000 })();

describe('the TLS confirmation byte', () => {
  it('is consumed: the socket begins with what the daemon sends after it', async () => {
    const d = await fakeLibvirtd(Buffer.from([1, 0xaa, 0xbb]));
    try {
      const socket = await connect(d.port);
      // Whoever takes the socket listens a moment later and then resumes it (connection.ts does).
      await new Promise((r) => setTimeout(r, 50));
      const first = new Promise<Buffer>((r) => socket.once('data', r));
      socket.resume();
      expect([...(await first)]).toEqual([0xaa, 0xbb]);
      socket.destroy();
    } finally {
      d.close();
    }
  });

  it('a daemon that closes instead (our certificate refused) is an error saying so', async () => {
    const d = await fakeLibvirtd(null);
    try {
      await expect(connect(d.port)).rejects.toThrow(/refused our client certificate/);
    } finally {
      d.close();
    }
  });

  it('any other first byte is an error, not a frame', async () => {
    const d = await fakeLibvirtd(Buffer.from([0]));
    try {
      await expect(connect(d.port)).rejects.toThrow(/did not confirm our TLS certificate/);
    } finally {
      d.close();
    }
  });
});
