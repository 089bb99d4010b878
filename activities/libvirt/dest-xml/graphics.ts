/**
 * VNC/SPICE listen addresses. Policy: with facts.graphicsListen, every address listen becomes it.
 * Without it, wildcard and loopback listens stay (they mean the same on every host) and a specific
 * address (which the destination does not have: QEMU would fail to bind and the migration with it)
 * falls back to loopback, so the console is never exposed more widely than the source exposed it.
 */
import { isHostIndependentAddress, type RewriteContext } from './context';
import { attr, childElements, select } from './xml-dom';

export function rewriteGraphicsListen(ctx: RewriteContext): void {
  const target = ctx.facts.graphicsListen;
  const host = ctx.facts.hostName;
  const decide = (current: string): { to: string; why: string } => {
    if (target !== undefined) return { to: target, why: `${host} reported its graphics listen address` };
    if (isHostIndependentAddress(current)) return { to: current, why: '' };
    const to = current.includes(':') ? '::1' : '127.0.0.1';
    return { to, why: `'${current}' is an address of the source host and ${host} reported no graphics listen address: loopback` };
  };
  for (const g of select(ctx.root, 'devices/graphics')) {
    if (!['vnc', 'spice'].includes(attr(g, 'type') ?? '')) continue;
    const listenAttr = attr(g, 'listen');
    if (listenAttr !== undefined) {
      const d = decide(listenAttr);
      ctx.setAttribute(g, 'listen', d.to, d.why);
    }
    for (const l of childElements(g, 'listen')) {
      const address = attr(l, 'address');
      // type='network' is resolved by the destination's libvirt; type='socket'/'none' have no address.
      if (attr(l, 'type') !== 'address' || address === undefined) continue;
      const d = decide(address);
      ctx.setAttribute(l, 'address', d.to, d.why);
    }
  }
}
