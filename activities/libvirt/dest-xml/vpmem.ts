/**
 * vPMEM devices (<memory model='nvdimm'> and virtio-pmem): what the guest has, and the rewrite that
 * points each at the namespace assigned to it on the destination (model/pmem/assignment.ts).
 * A persistent-memory namespace belongs to one guest on one host: keeping the source's path would
 * hand the guest whatever the destination keeps there, so with assignments given, a device
 * without one is refused rather than left as it was.
 */
import type { RewriteContext } from './context';
import { attr, firstChild, locate, parseXml, select, textOf, type Element } from './xml-dom';

const VPMEM_MODELS = new Set(['nvdimm', 'virtio-pmem']);

export interface VpmemDevice {
  el: Element;
  /** Locator of the <memory> element, for changes and refusals. */
  at: string;
  model: string;
  /** The backing path on the host that runs the guest; undefined when the XML names none. */
  path: string | undefined;
  /** The device's size (<target><size>) in MiB; undefined when absent or not a whole MiB. */
  sizeMiB: number | undefined;
}

const BYTES_PER_UNIT: Record<string, number> = {
  b: 1, bytes: 1, k: 1024, kib: 1024, kb: 1000, m: 1024 ** 2, mib: 1024 ** 2, mb: 1000 ** 2,
  g: 1024 ** 3, gib: 1024 ** 3, gb: 1000 ** 3, t: 1024 ** 4, tib: 1024 ** 4, tb: 1000 ** 4,
};

/** libvirt's scaled integer (<size unit='KiB'>1048576</size>; the default unit is KiB) in whole MiB. */
function sizeInMiB(size: Element | undefined): number | undefined {
  const text = textOf(size)?.trim();
  if (!size || !text || !/^\d+$/.test(text)) return undefined;
  const unit = BYTES_PER_UNIT[(attr(size, 'unit') ?? 'KiB').toLowerCase()];
  if (unit === undefined) return undefined;
  const mib = (Number(text) * unit) / 1024 ** 2;
  return Number.isInteger(mib) ? mib : undefined;
}

export function vpmemDevices(root: Element): VpmemDevice[] {
  return select(root, 'devices/memory')
    .filter((m) => VPMEM_MODELS.has(attr(m, 'model') ?? ''))
    .map((el) => {
      const target = firstChild(el, 'target');
      return {
        el,
        at: locate(el),
        model: attr(el, 'model')!,
        path: textOf(select(el, 'source/path')[0])?.trim() || undefined,
        sizeMiB: sizeInMiB(target && firstChild(target, 'size')),
      };
    });
}

/** The guest's vPMEM devices from its domain XML: backing path and size (what the assignment needs). */
export function vpmemDevicesOfXml(xml: string): Array<Pick<VpmemDevice, 'at' | 'model' | 'path' | 'sizeMiB'>> {
  return vpmemDevices(parseXml(xml).root).map(({ at, model, path, sizeMiB }) => ({ at, model, path, sizeMiB }));
}

/** Every vPMEM device to its assigned namespace (facts.pmemAssigned); nothing when no assignment was given. */
export function rewriteVpmemNamespaces(ctx: RewriteContext): void {
  const assigned = ctx.facts.pmemAssigned;
  if (assigned === undefined) return;
  for (const d of vpmemDevices(ctx.root)) {
    const pathEl = select(d.el, 'source/path')[0];
    const to = d.path === undefined ? undefined : assigned[d.path];
    if (!pathEl || to === undefined) {
      ctx.refuse(d.el, `vPMEM ${d.model} backed by ${d.path ?? '(no path)'} has no namespace assigned on ${ctx.facts.hostName}: ` +
        'each must get one of the namespaces its allocation claimed there');
      continue;
    }
    ctx.setText(pathEl, to, `${d.model} backing: the namespace assigned on ${ctx.facts.hostName} from the claimed allocation`);
  }
}
