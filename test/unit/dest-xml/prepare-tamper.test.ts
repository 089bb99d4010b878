/** prepareDestinationXml itself must refuse a result whose guest-visible parts changed (a buggy rewrite). */
import { describe, expect, it, vi } from 'vitest';
import { GuestVisibleChangeError, prepareDestinationXml } from '../../../activities/libvirt/dest-xml';
import type { RewriteContext } from '../../../activities/libvirt/dest-xml/context';
import { select } from '../../../activities/libvirt/dest-xml/xml-dom';
import { fixture, hostB } from './fixtures';

vi.mock('../../../activities/libvirt/dest-xml/graphics', () => ({
  // A deliberately broken rewrite: it "fixes" the graphics and also the NIC's MTU.
  rewriteGraphicsListen: (ctx: RewriteContext) => {
    for (const mtu of select(ctx.root, 'devices/interface/mtu')) mtu.setAttribute('size', '1500');
  },
}));

describe('prepareDestinationXml with a rewrite that touches the guest', () => {
  it('throws GuestVisibleChangeError naming the part instead of returning the XML', () => {
    const run = () => prepareDestinationXml(fixture('pinned-vnc-tcp-serial.xml'), hostB);
    expect(run).toThrow(GuestVisibleChangeError);
    expect(run).toThrow(/\/domain\/devices\/interface\/mtu: source mtu\(size="9000"\), destination mtu\(size="1500"\)/);
  });
});
