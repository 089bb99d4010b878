/**
 * The lab's PKI: one CA, and per host one key and certificate that serves both roles libvirt and
 * QEMU give it (server for its libvirtd and for incoming migration streams, client when its
 * libvirtd dials a peer or its QEMU sends a stream), plus a client certificate for ferry's worker.
 * Made once with openssl and kept: a lab that comes up again reuses them, so hosts already
 * running keep trusting each other.
 *
 * Each host sees its own files at the paths libvirt and QEMU read by default (host-boot.sh binds
 * the host's pki directory over /etc/pki): /etc/pki/CA/cacert.pem, /etc/pki/libvirt/{servercert,
 * clientcert}.pem with their keys under private/, and /etc/pki/qemu/{ca-cert,server-cert,
 * server-key,client-cert,client-key}.pem (QEMU's default_tls_x509_cert_dir).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { labDir } from './paths';

export const LIBVIRT_TLS_PORT = 16514;

export function labPkiDir(): string {
  return path.join(labDir(), 'pki');
}

export interface ClientCredentials {
  caCert: string;
  clientCert: string;
  clientKey: string;
}

/** The worker's client certificate and the CA, as a host inventory's `tls` names them. */
export function workerTlsFiles(): ClientCredentials {
  const dir = labPkiDir();
  return { caCert: path.join(dir, 'ca-cert.pem'), clientCert: path.join(dir, 'worker', 'cert.pem'), clientKey: path.join(dir, 'worker', 'key.pem') };
}

/** PURE: the X.509 extensions of a host's certificate: its name and address, usable as server and client. */
export function hostCertExtensions(name: string, address: string): string {
  return [
    'basicConstraints = critical, CA:FALSE',
    'keyUsage = critical, digitalSignature, keyEncipherment',
    'extendedKeyUsage = serverAuth, clientAuth',
    `subjectAltName = DNS:${name}, IP:${address}`,
    '',
  ].join('\n');
}

/** PURE: where each file goes under a host's pki directory (relative path -> which of the host's files). */
export function hostPkiLayout(): Array<[string, 'ca' | 'cert' | 'key']> {
  return [
    ['CA/cacert.pem', 'ca'],
    ['libvirt/servercert.pem', 'cert'],
    ['libvirt/private/serverkey.pem', 'key'],
    ['libvirt/clientcert.pem', 'cert'],
    ['libvirt/private/clientkey.pem', 'key'],
    ['qemu/ca-cert.pem', 'ca'],
    ['qemu/server-cert.pem', 'cert'],
    ['qemu/server-key.pem', 'key'],
    ['qemu/client-cert.pem', 'cert'],
    ['qemu/client-key.pem', 'key'],
  ];
}

const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });

function ensureCa(dir: string): void {
  if (fs.existsSync(path.join(dir, 'ca-cert.pem'))) return;
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  openssl([
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '3650', '-subj', '/O=ferry lab/CN=ferry lab CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout', path.join(dir, 'ca-key.pem'), '-out', path.join(dir, 'ca-cert.pem'),
  ]);
}

/** A key and a certificate signed by the lab CA, made once into `out` (cert.pem, key.pem). */
function ensureSigned(dir: string, out: string, subject: string, extensions: string): void {
  if (fs.existsSync(path.join(out, 'cert.pem'))) return;
  fs.mkdirSync(out, { recursive: true, mode: 0o700 });
  const ext = path.join(out, 'ext.cnf');
  fs.writeFileSync(ext, extensions);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', subject, '-keyout', path.join(out, 'key.pem'), '-out', path.join(out, 'req.csr')]);
  openssl([
    'x509', '-req', '-in', path.join(out, 'req.csr'), '-CA', path.join(dir, 'ca-cert.pem'), '-CAkey', path.join(dir, 'ca-key.pem'),
    '-CAcreateserial', '-days', '3650', '-extfile', ext, '-out', path.join(out, 'cert.pem'),
  ]);
}

/**
 * Makes (once) the CA, every host's certificate and the worker's, and lays out each host's files
 * under `<hostDir>/pki` for host-boot.sh to bind over /etc/pki.
 */
export function ensureLabPki(hosts: ReadonlyArray<{ name: string; address: string; dir: string }>): void {
  const dir = labPkiDir();
  ensureCa(dir);
  ensureSigned(dir, path.join(dir, 'worker'), '/O=ferry lab/CN=ferry-worker', [
    'basicConstraints = critical, CA:FALSE', 'keyUsage = critical, digitalSignature, keyEncipherment', 'extendedKeyUsage = clientAuth', '',
  ].join('\n'));
  for (const h of hosts) {
    const own = path.join(dir, 'hosts', h.name);
    ensureSigned(dir, own, `/O=ferry lab/CN=${h.name}`, hostCertExtensions(h.name, h.address));
    const files = { ca: path.join(dir, 'ca-cert.pem'), cert: path.join(own, 'cert.pem'), key: path.join(own, 'key.pem') };
    for (const [rel, which] of hostPkiLayout()) {
      const target = path.join(h.dir, 'pki', rel);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.copyFileSync(files[which], target);
      fs.chmodSync(target, which === 'key' ? 0o600 : 0o644);
    }
  }
}
