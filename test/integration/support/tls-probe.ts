/**
 * Run inside a lab host's namespaces (tls.test.ts enters them): opens a libvirt connection the
 * way the worker does and prints what happened as one JSON line.
 *   inventory <uri> <ca> <cert> <key>: through the worker's HostConnections, from an inventory
 *                                      entry with those TLS files;
 *   direct <uri> [ca]:                 ferry's client with only a CA (no client certificate).
 */
import fs from 'node:fs';
import { HostConnections } from '../../../activities/connections';
import { HostInventorySchema, Inventory } from '../../../activities/hosts';
import { LibvirtClient } from '../../../activities/libvirt';

async function main(): Promise<void> {
  const [mode, uri, ca, cert, key] = process.argv.slice(2);
  if (mode === 'inventory') {
    const inventory = new Inventory(HostInventorySchema.parse([{
      name: 'peer', uri, peerUri: uri, rp: '00000000-0000-4000-8000-0000000000aa', tls: { caCert: ca, clientCert: cert, clientKey: key },
    }]));
    const connections = new HostConnections(inventory);
    const c = await connections.get('peer');
    console.log(JSON.stringify({ hostname: await c.getHostname() }));
    await connections.closeAll?.();
    await c.close();
  } else {
    const c = await LibvirtClient.connect({ uri: uri!, ...(ca ? { tls: { ca: fs.readFileSync(ca) } } : {}) });
    console.log(JSON.stringify({ hostname: await c.getHostname() }));
    await c.close();
  }
}

main().then(() => process.exit(0), (err: Error) => {
  console.log(JSON.stringify({ error: err.message }));
  process.exit(0);
});
