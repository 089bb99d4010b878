import { ErrorCode, LibvirtClient, isLibvirtError, type DomainRef, type DomainStateInfo } from '../activities/libvirt';
import { hostUri } from './hosts';
import type { LabHost } from './state';

/** One libvirt RPC connection per lab host, closed when fn is done. */
export async function withHostClients<T>(
  hosts: LabHost[],
  fn: (clients: Map<string, LibvirtClient>) => Promise<T>,
): Promise<T> {
  const clients = new Map<string, LibvirtClient>();
  try {
    for (const h of hosts) clients.set(h.name, await LibvirtClient.connect({ uri: hostUri(h.name) }));
    return await fn(clients);
  } finally {
    await Promise.all([...clients.values()].map((c) => c.close().catch(() => undefined)));
  }
}

export async function withHostClient<T>(host: string, fn: (client: LibvirtClient) => Promise<T>): Promise<T> {
  const client = await LibvirtClient.connect({ uri: hostUri(host) });
  try {
    return await fn(client);
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** The domain and its state on this host, or undefined when the host does not have it. */
export async function findDomain(
  client: LibvirtClient,
  name: string,
): Promise<{ dom: DomainRef; state: DomainStateInfo } | undefined> {
  try {
    const dom = await client.lookupDomainByName(name);
    return { dom, state: await client.domainGetState(dom) };
  } catch (err) {
    if (isLibvirtError(err, ErrorCode.NoDomain)) return undefined;
    throw err;
  }
}
