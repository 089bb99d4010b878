/** Devices whose state QEMU cannot move: host device passthrough (VFIO PCI, USB, SCSI, mdev). */
import { vpmemDevices } from './vpmem';
import { attr, firstChild, locate, select, type Element } from './xml-dom';

export interface PassthroughDevice {
  el: Element;
  path: string;
  description: string;
}

function hex(value: string | undefined, width: number): string {
  const n = value === undefined ? NaN : Number(value);
  return Number.isFinite(n) ? n.toString(16).padStart(width, '0') : '?';
}

function pciAddress(address: Element | undefined): string {
  if (!address) return 'unknown address';
  return `${hex(attr(address, 'domain'), 4)}:${hex(attr(address, 'bus'), 2)}:${hex(attr(address, 'slot'), 2)}.${hex(attr(address, 'function'), 1)}`;
}

function describe(el: Element): string {
  const source = firstChild(el, 'source');
  const address = source ? firstChild(source, 'address') : undefined;
  if (el.tagName === 'interface') return `SR-IOV interface (PCI ${pciAddress(address)})`;
  switch (attr(el, 'type')) {
    case 'pci':
      return `PCI passthrough (VFIO) device ${pciAddress(address)}`;
    case 'mdev':
      return `mediated device ${attr(address, 'uuid') ?? '?'}`;
    case 'usb': {
      const vendor = source ? attr(firstChild(source, 'vendor'), 'id') : undefined;
      const product = source ? attr(firstChild(source, 'product'), 'id') : undefined;
      return vendor ? `USB device ${vendor}:${product ?? '?'}` : `USB device at bus ${attr(address, 'bus') ?? '?'} device ${attr(address, 'device') ?? '?'}`;
    }
    default:
      return `host device (${attr(el, 'mode') ?? 'subsystem'} ${attr(el, 'type') ?? '?'})`;
  }
}

export function passthroughDevices(root: Element): PassthroughDevice[] {
  const found = [
    ...select(root, 'devices/hostdev'),
    ...select(root, 'devices/interface').filter((i) => attr(i, 'type') === 'hostdev'),
  ];
  return found.map((el) => ({ el, path: locate(el), description: describe(el) }));
}

/**
 * vPMEM: every nvdimm and virtio-pmem device, whatever backs it. Real persistent memory
 * (<source><pmem/>) or a file, its pages live in a shared mapping of the backing that post-copy's
 * userfaultfd cannot serve on demand, and the namespace is the guest's durable state.
 */
export function persistentMemoryDevices(root: Element): PassthroughDevice[] {
  return vpmemDevices(root).map((d) => ({ el: d.el, path: d.at, description: `vPMEM ${d.model} backed by ${d.path ?? '?'}` }));
}
