/**
 * The stack's private PKI, made with openssl: a CA, the server's certificate (frontend and
 * internode: 127.0.0.1 and localhost, usable as client too, since the server's own services
 * present it to each other) and one client certificate for ferry's workers and CLI. Made once;
 * kept while the files are there.
 */
import fs from 'node:fs';
import path from 'node:path';
import { run } from '../lab/proc';
import { STACK_TLS_SERVER_NAME } from './versions';

export interface StackTls {
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

export function tlsFiles(dir: string): StackTls {
  return {
    caCert: path.join(dir, 'ca.pem'),
    serverCert: path.join(dir, 'server.pem'),
    serverKey: path.join(dir, 'server.key'),
    clientCert: path.join(dir, 'client.pem'),
    clientKey: path.join(dir, 'client.key'),
  };
}

const DAYS = '825';

/** Makes whatever of the PKI is missing (a missing CA remakes everything: the others hang on it). */
export async function ensureTls(dir: string): Promise<StackTls> {
  const f = tlsFiles(dir);
  const caKey = path.join(dir, 'ca.key');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ecKey = (file: string) => run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file], { timeoutMs: 30_000 });
  if (!fs.existsSync(f.caCert) || !fs.existsSync(caKey)) {
    for (const file of Object.values(f)) fs.rmSync(file, { force: true });
    await ecKey(caKey);
    await run('openssl', [
      'req', '-x509', '-new', '-key', caKey, '-sha256', '-days', DAYS, '-subj', '/CN=ferry stack CA', '-out', f.caCert,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ], { timeoutMs: 30_000 });
  }
  const leaf = async (cert: string, key: string, cn: string, ext: string[]) => {
    if (fs.existsSync(cert) && fs.existsSync(key)) return;
    const csr = `${cert}.csr`;
    const extFile = `${cert}.ext`;
    await ecKey(key);
    await run('openssl', ['req', '-new', '-key', key, '-subj', `/CN=${cn}`, '-out', csr], { timeoutMs: 30_000 });
    fs.writeFileSync(extFile, ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', ...ext].join('\n') + '\n');
    await run('openssl', [
      'x509', '-req', '-in', csr, '-CA', f.caCert, '-CAkey', caKey, '-CAcreateserial', '-sha256', '-days', DAYS, '-extfile', extFile, '-out', cert,
    ], { timeoutMs: 30_000 });
    fs.rmSync(csr, { force: true });
    fs.rmSync(extFile, { force: true });
  };
  await leaf(f.serverCert, f.serverKey, STACK_TLS_SERVER_NAME, [
    `subjectAltName=DNS:${STACK_TLS_SERVER_NAME},IP:127.0.0.1`,
    'extendedKeyUsage=serverAuth,clientAuth',
  ]);
  await leaf(f.clientCert, f.clientKey, 'ferry-worker', ['extendedKeyUsage=clientAuth']);
  for (const file of [caKey, f.serverKey, f.clientKey]) fs.chmodSync(file, 0o600);
  return f;
}

/** `npx tsx stack/certs.ts DIR`: the same PKI into DIR (docker-compose.yml's certs step). */
if (require.main === module) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: stack/certs.ts DIR');
    process.exit(64);
  }
  ensureTls(path.resolve(dir)).then(
    (f) => console.log(JSON.stringify(f, null, 2)),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
