/** What in a domain's XML rules post-copy out (design step 1: post-copy eligibility). */
import { passthroughDevices, persistentMemoryDevices } from './devices';
import { parseXml } from './xml-dom';

/**
 * One line per blocker; empty when the XML allows post-copy. Post-copy moves pages on demand after
 * the guest already runs on the destination: a page of persistent memory (vPMEM) or memory a
 * passthrough device writes by DMA cannot be fetched that way.
 */
export function postcopyBlockers(xml: string): string[] {
  const { root } = parseXml(xml);
  return [
    ...persistentMemoryDevices(root).map(
      (d) => `${d.path}: ${d.description}: persistent memory cannot be fetched on demand after the switch`,
    ),
    ...passthroughDevices(root).map(
      (d) => `${d.path}: ${d.description}: a passthrough device's DMA writes cannot be tracked by post-copy`,
    ),
  ];
}
