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
 *
 * A disk being copied (block migration) rules it out too: ferry's decision, not a libvirt refusal.
 * The disk mirror (NBD) is only complete at the switch-over; once post-copy has begun, the newest
 * RAM is on the destination while the disk's last writes may still be in flight, so a post-copy
 * broken then could not be undone (the source's RAM is stale) and its recovery (POSTCOPY_RESUME)
 * resumes RAM, not a broken disk mirror: the only whole disk could end up nowhere. Pre-copy keeps
 * the source whole until the end, so an abort or a fault loses nothing; a guest that does not
 * converge is paused or aborted by the controller instead (completion.action).
 */
export interface PostcopyEligibilityFacts {
  /** One line per device that blocks it (activities/libvirt/dest-xml/postcopy.ts), from the source's XML. */
  blockers: readonly string[];
  /** Both hosts can recover a broken post-copy (libvirt 8.5 and later). */
  recoverySupported: boolean;
  /** Target devs of the disks a block migration copies (model/storage/plan.ts); absent or empty: none. */
  diskCopies?: readonly string[];
}

export interface PostcopyEligibility {
  eligible: boolean;
  /** Empty when eligible; else every reason, in words for the decision record. */
  reasons: string[];
}

export function postcopyEligibility(f: PostcopyEligibilityFacts): PostcopyEligibility {
  const reasons = [...f.blockers];
  if (!f.recoverySupported) reasons.push('libvirt older than 8.5 on one end: a broken post-copy could not be recovered');
  if (f.diskCopies?.length) {
    reasons.push(`disk ${f.diskCopies.join(', ')} copied by block migration: a broken post-copy would leave the disk split between two hosts`);
  }
  return { eligible: reasons.length === 0, reasons };
}
