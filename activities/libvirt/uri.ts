/**
 * libvirt connection URIs -> where to connect and what name to open. Supports
 * `qemu:///system`, `qemu+unix:///system?socket=/path`, `qemu+tcp://host[:port]/system` and
 * `qemu+tls://host[:port]/system` (TLS needs certificates passed as tls.ConnectionOptions).
 */
import net from 'node:net';
import tls from 'node:tls';
import type { SocketFactory } from './connection';

export const DEFAULT_UNIX_SOCKET = '/var/run/libvirt/libvirt-sock';
export const DEFAULT_TCP_PORT = 16509;
export const DEFAULT_TLS_PORT = 16514;

export type Transport =
  | { kind: 'unix'; path: string }
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'tls'; host: string; port: number };

export interface ParsedUri {
  transport: Transport;
  /** The URI to send in CONNECT_OPEN: the driver URI without transport or client-only parameters. */
  name: string;
}

/** Query parameters that only the client's remote driver uses; they are not sent to the daemon. */
const CLIENT_ONLY_PARAMS = new Set([
  'socket', 'name', 'command', 'netcat', 'keyfile', 'no_verify', 'no_tty', 'pkipath', 'known_hosts',
  'sshauth', 'tls_priority', 'mode', 'proxy', 'tls_verify',
]);

export function parseLibvirtUri(uri: string): ParsedUri {
  const m = /^([a-z0-9]+)(?:\+([a-z0-9]+))?:\/\/([^/?]*)(\/[^?]*)?(?:\?(.*))?$/i.exec(uri);
  if (!m) throw new Error(`not a libvirt URI: "${uri}"`);
  const [, driver, transportName, authority = '', path = '/', query = ''] = m;
  const params = new URLSearchParams(query);
  const kept = new URLSearchParams();
  for (const [k, v] of params) if (!CLIENT_ONLY_PARAMS.has(k)) kept.set(k, v);
  const keptQuery = kept.toString();
  const name = params.get('name') ?? `${driver}://${path}${keptQuery ? `?${keptQuery}` : ''}`;

  const { host, port } = splitHostPort(authority);
  const kind = (transportName ?? (host ? 'tls' : 'unix')).toLowerCase();
  switch (kind) {
    case 'unix':
      return { transport: { kind: 'unix', path: params.get('socket') ?? DEFAULT_UNIX_SOCKET }, name };
    case 'tcp':
      if (!host) throw new Error(`"${uri}" names no host`);
      return { transport: { kind: 'tcp', host, port: port ?? DEFAULT_TCP_PORT }, name };
    case 'tls':
      if (!host) throw new Error(`"${uri}" names no host`);
      return { transport: { kind: 'tls', host, port: port ?? DEFAULT_TLS_PORT }, name };
    default:
      throw new Error(`unsupported libvirt transport "${kind}" in "${uri}" (use unix, tcp or tls)`);
  }
}

function splitHostPort(authority: string): { host: string; port?: number } {
  const at = authority.lastIndexOf('@');
  const hostPort = at >= 0 ? authority.slice(at + 1) : authority;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(hostPort);
  if (v6) return { host: v6[1]!, port: v6[2] ? Number(v6[2]) : undefined };
  const [host = '', port] = hostPort.split(':');
  return { host, port: port ? Number(port) : undefined };
}

export interface SocketFactoryOptions {
  connectTimeoutMs?: number;
  /** Certificates etc. for qemu+tls. */
  tls?: tls.ConnectionOptions;
}

export function socketFactoryFor(transport: Transport, opts: SocketFactoryOptions = {}): SocketFactory {
  const timeoutMs = opts.connectTimeoutMs ?? 10_000;
  return () =>
    new Promise<net.Socket>((resolve, reject) => {
      let socket: net.Socket;
      let readyEvent = 'connect';
      if (transport.kind === 'unix') {
        socket = net.createConnection({ path: transport.path });
      } else if (transport.kind === 'tcp') {
        socket = net.createConnection({ host: transport.host, port: transport.port });
      } else {
        socket = tls.connect({ host: transport.host, port: transport.port, servername: transport.host, ...opts.tls });
        readyEvent = 'secureConnect';
      }
      const where = transport.kind === 'unix' ? transport.path : `${transport.host}:${transport.port}`;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connecting to libvirt at ${where} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const onError = (err: Error) => {
        clearTimeout(timer);
        reject(new Error(`cannot connect to libvirt at ${where}: ${err.message}`, { cause: err }));
      };
      socket.once('error', onError);
      const ready = () => {
        clearTimeout(timer);
        socket.off('error', onError);
        resolve(socket);
      };
      socket.once(readyEvent, () => {
        if (transport.kind !== 'tls') return ready();
        // After the handshake libvirtd checks the client's certificate and sends one byte, 1, when
        // it accepts it (libvirt's remote protocol over TLS); it closes the connection when not.
        // RPC starts only after that byte: read as a packet, it would shift every frame.
        const onClose = () => onError(new Error('libvirtd closed the TLS connection: it refused our client certificate (or its CA, or our address)'));
        socket.once('close', onClose);
        socket.once('data', (chunk: Buffer) => {
          socket.off('close', onClose);
          if (chunk[0] !== 1) {
            socket.destroy();
            return onError(new Error(`libvirtd did not confirm our TLS certificate (first byte ${chunk[0]})`));
          }
          // Held until the connection listens (it resumes the socket): nothing after the byte is lost.
          socket.pause();
          if (chunk.length > 1) socket.unshift(chunk.subarray(1));
          ready();
        });
      });
    });
}
