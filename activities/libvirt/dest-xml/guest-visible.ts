/**
 * What the guest sees must be identical before and after the rewrite: identity, memory and vCPU
 * sizes, machine and CPU model, every guest address (PCI, drive, virtio-serial, DIMM), MACs, MTUs,
 * NIC models, disk targets, and every device ferry never rewrites. A difference is a bug in ferry
 * (the destination QEMU would refuse the stream, or worse, accept it and confuse the guest).
 */
import { GuestVisibleChangeError } from './errors';
import { attr, canonical, parseXml, childElements, descendants, firstChild, locate, parentElement, select, textOf, type Element } from './xml-dom';

/** Devices ferry rewrites host-side parts of; their guest-visible parts are listed one by one. */
const partlyRewritten = new Set(['disk', 'interface', 'graphics', 'serial', 'console', 'channel', 'parallel', 'memory', 'hostdev']);

const wholeElements = ['features', 'cpu', 'clock', 'sysinfo', 'pm', 'genid', 'maxMemory', 'memory', 'currentMemory', 'vcpus', 'iothreads'];

export interface GuestVisibleOptions {
  /** The destination's name is allowed to differ from the source's and must then be this. */
  destName?: string;
}

/** locator -> canonical value of each guest-visible part. */
export function guestVisibleParts(root: Element, opts: GuestVisibleOptions = {}): Map<string, string> {
  const parts = new Map<string, string>();
  const put = (key: string, el: Element | undefined, value = canonical(el)) => parts.set(key, value);

  parts.set('/domain/@type', attr(root, 'type') ?? '∅');
  put('/domain/uuid', firstChild(root, 'uuid'), textOf(firstChild(root, 'uuid'))?.trim());
  if (opts.destName === undefined) put('/domain/name', firstChild(root, 'name'), textOf(firstChild(root, 'name'))?.trim());
  for (const tag of wholeElements) put(`/domain/${tag}`, firstChild(root, tag));
  const vcpu = firstChild(root, 'vcpu');
  parts.set('/domain/vcpu', `${textOf(vcpu)?.trim() ?? '∅'} current=${attr(vcpu, 'current') ?? '∅'}`);
  put('/domain/os/type', select(root, 'os/type')[0]);
  parts.set('/domain/os/@firmware', attr(firstChild(root, 'os'), 'firmware') ?? '∅');

  const devices = firstChild(root, 'devices');
  if (!devices) return parts;
  parts.set('/domain/devices/*', childElements(devices).map((d) => d.tagName).join(','));
  for (const dev of childElements(devices)) {
    const at = locate(dev);
    if (!partlyRewritten.has(dev.tagName)) {
      if (dev.tagName !== 'emulator') put(at, dev);
      continue;
    }
    parts.set(`${at}/@device`, attr(dev, 'device') ?? '∅');
    parts.set(`${at}/@model`, attr(dev, 'model') ?? '∅');
    for (const tag of ['target', 'mac', 'mtu', 'model', 'serial', 'wwn', 'vendor', 'product', 'geometry', 'blockio', 'alias', 'boot', 'rom']) {
      const el = firstChild(dev, tag);
      if (el) put(`${at}/${tag}`, el);
    }
  }
  // Guest-side addresses anywhere; an <address> inside <source> is the host's (hostdev), not the guest's.
  for (const address of descendants(devices, 'address')) {
    if (parentElement(address)?.tagName !== 'source') put(locate(address), address);
  }
  return parts;
}

export function guestVisibleDifferences(source: Element, result: Element, opts: GuestVisibleOptions = {}): string[] {
  const before = guestVisibleParts(source, opts);
  const after = guestVisibleParts(result, opts);
  const differences: string[] = [];
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    const a = before.get(key) ?? '∅';
    const b = after.get(key) ?? '∅';
    if (a !== b) differences.push(`${key}: source ${a}, destination ${b}`);
  }
  if (opts.destName !== undefined) {
    const name = textOf(firstChild(result, 'name'))?.trim();
    if (name !== opts.destName) differences.push(`/domain/name: expected '${opts.destName}', destination '${name ?? '∅'}'`);
  }
  return differences;
}

export function assertGuestVisibleUnchanged(source: Element, result: Element, opts: GuestVisibleOptions = {}): void {
  const differences = guestVisibleDifferences(source, result, opts);
  if (differences.length === 0) return;
  throw new GuestVisibleChangeError(
    'the destination XML changes what the guest sees (a bug in ferry: the migration was not started)',
    differences.map((d) => {
      const i = d.indexOf(': ');
      return { path: d.slice(0, i), reason: d.slice(i + 2) };
    }),
  );
}

/** The same check on two XML texts, for callers that hold strings (e.g. a dest XML built elsewhere). */
export function verifyGuestVisibleUnchanged(sourceXml: string, destinationXml: string, opts: GuestVisibleOptions = {}): void {
  assertGuestVisibleUnchanged(parseXml(sourceXml).root, parseXml(destinationXml).root, opts);
}
