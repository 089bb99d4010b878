/**
 * PURE: how much of a guest's RAM holds data, from QEMU's resident set on its host.
 *
 * Guest pages never written are not resident, and QEMU migrates them as zero pages (a marker
 * each, next to nothing on the wire). The resident set also counts QEMU's own memory, so it is
 * taken less QEMU_OWN_RESIDENT_BYTES, never below the working set (that memory certainly holds
 * data) nor above the RAM.
 *
 * QEMU's own share, measured on the lab (QEMU 7.2, TCG): an idle 128 MiB lab guest is 39 MiB
 * resident and migrates 1 MiB; guests rewriting 32 and 96 MiB are 71 and 135 MiB resident. The
 * constant is set below that (KVM needs no translation cache), so that data is over- rather than
 * under-counted: the miss it leaves is a few MiB, which matters only for guests as small as the
 * lab's.
 */
const MiB = 1024 * 1024;

export const QEMU_OWN_RESIDENT_BYTES = 32 * MiB;

export function touchedFromResident(residentBytes: number | null | undefined, memoryBytes: number, workingSetBytes?: number | null): number | null {
  if (residentBytes === null || residentBytes === undefined) return null;
  const data = Math.max(residentBytes - QEMU_OWN_RESIDENT_BYTES, workingSetBytes ?? 0, 0);
  return Math.min(data, memoryBytes);
}
