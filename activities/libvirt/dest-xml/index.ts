/** Destination domain XML (design step 3): a pure rewrite of the source's migratable XML. */
export { prepareDestinationXml } from './prepare';
export { postcopyBlockers } from './postcopy';
export { vpmemDevicesOfXml } from './vpmem';
export { assertGuestVisibleUnchanged, guestVisibleDifferences, guestVisibleParts, verifyGuestVisibleUnchanged } from './guest-visible';
export type { GuestVisibleOptions } from './guest-visible';
export { DestinationFactsSchema, PrepareOptionsSchema } from './facts';
export type { Change, DestinationFacts, PrepareOptions, PreparedXml } from './facts';
export { DestinationXmlError, GuestVisibleChangeError } from './errors';
export type { Problem } from './errors';
export { formatCpuSet, parseCpuSet, CpuSetSyntaxError } from './cpuset';
export { mapPath } from './path-map';
export { parseXml, serializeXml, XmlParseError } from './xml-dom';
