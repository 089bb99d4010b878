/**
 * Serial ports, consoles, channels and parallel ports: network endpoints and files on the host.
 * A tcp/udp source that binds (listens) to a specific address is bound to the source host by
 * definition, so it moves to the destination's migration address; wildcard and loopback stay. A
 * source that connects elsewhere stays, unless it connects to the source host itself
 * (opts.sourceAddresses). Ports are kept. Files and unix sockets follow pathMap.
 */
import { isHostIndependentAddress, type RewriteContext } from './context';
import { mapPath } from './path-map';
import { attr, childElements, select } from './xml-dom';

const chardevKinds = ['serial', 'console', 'channel', 'parallel'];

export function rewriteChardevs(ctx: RewriteContext): void {
  const sourceAddresses = new Set((ctx.opts.sourceAddresses ?? []).map((a) => a.toLowerCase()));
  const dest = ctx.facts.migrationAddress;
  const host = ctx.facts.hostName;
  const pathMap = ctx.facts.pathMap ?? {};
  for (const kind of chardevKinds) {
    for (const dev of select(ctx.root, `devices/${kind}`)) {
      const type = attr(dev, 'type');
      for (const source of childElements(dev, 'source')) {
        const address = attr(source, 'host');
        if ((type === 'tcp' || type === 'udp') && address !== undefined) {
          const mode = attr(source, 'mode') ?? 'connect';
          if (mode === 'bind' && !isHostIndependentAddress(address)) {
            ctx.setAttribute(source, 'host', dest, `the source host's address '${address}' cannot be bound on ${host}`);
          } else if (mode === 'connect' && sourceAddresses.has(address.toLowerCase())) {
            ctx.setAttribute(source, 'host', dest, `'${address}' is the source host itself; on ${host} the peer is local`);
          }
        }
        if (type === 'file' || type === 'unix') {
          const path = attr(source, 'path');
          const mapped = path === undefined ? undefined : mapPath(path, pathMap);
          if (mapped) ctx.setAttribute(source, 'path', mapped.to, `pathMap '${mapped.prefix}'`);
        }
      }
      for (const log of childElements(dev, 'log')) {
        const file = attr(log, 'file');
        const mapped = file === undefined ? undefined : mapPath(file, pathMap);
        if (mapped) ctx.setAttribute(log, 'file', mapped.to, `pathMap '${mapped.prefix}'`);
      }
    }
  }
}
