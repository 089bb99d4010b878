/**
 * PURE: whether post-copy may be used at all for this guest between these hosts, from what the
 * pre-checks found, with every reason it may not. The policy comes after (postcopyUsable): a
 * guest that is not eligible never switches to post-copy, even when the policy allows it.
 *
 * A vPMEM device (nvdimm or virtio-pmem, whatever backs it) rules post-copy out, as Nova's vPMEM
 * live migration does: the namespace is the guest's durable memory, mapped shared from its backing,
 * and post-copy's userfaultfd cannot fetch such pages on demand; a broken post-copy would leave
 * that durable state split between two hosts. A passthrough device rules it out too (its DMA
 * writes are not tracked).
 */
export interface PostcopyEligibilityFacts {
  /** One line per device that blocks it (activities/libvirt/dest-xml/postcopy.ts), from the source's XML. */
  blockers: readonly string[];
  /** Both hosts can recover a broken post-copy (libvirt 8.5 and later). */
  recoverySupported: boolean;
}

export interface PostcopyEligibility {
  eligible: boolean;
  /** Empty when eligible; else every reason, in words for the decision record. */
  reasons: string[];
}

export function postcopyEligibility(f: PostcopyEligibilityFacts): PostcopyEligibility {
  const reasons = [...f.blockers];
  if (!f.recoverySupported) reasons.push('libvirt older than 8.5 on one end: a broken post-copy could not be recovered');
  return { eligible: reasons.length === 0, reasons };
}
