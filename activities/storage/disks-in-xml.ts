/** The <disk> elements of a domain's XML as facts (model/storage/facts.ts): what the plan decides on. */
import type { Disk } from '../../model/storage/facts';
import { attr, childElements, firstChild, parseXml, select } from '../libvirt/dest-xml/xml-dom';

export function disksOfXml(xml: string): Disk[] {
  const { root } = parseXml(xml);
  return select(root, 'devices/disk').map((el) => {
    const source = firstChild(el, 'source');
    const type = attr(el, 'type') ?? 'file';
    // A file disk names its file, a block disk its device; the others (network, volume) no path ferry can use.
    const sourcePath = type === 'file' ? attr(source, 'file') : type === 'block' ? attr(source, 'dev') : undefined;
    return {
      target: attr(firstChild(el, 'target'), 'dev') ?? '',
      device: attr(el, 'device') ?? 'disk',
      type,
      sourcePath: sourcePath ?? null,
      format: attr(firstChild(el, 'driver'), 'type') ?? null,
      cache: attr(firstChild(el, 'driver'), 'cache') ?? null,
      readonly: childElements(el, 'readonly').length > 0,
      shareable: childElements(el, 'shareable').length > 0,
    };
  });
}
