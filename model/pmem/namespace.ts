/**
 * PURE: a host's persistent-memory namespaces (vPMEM backing) and the Placement resource class
 * each is published under. A namespace is a region of fixed size the host's libvirt reaches at a
 * path (a DAX device such as /dev/dax0.0 in production, a file of that size in the lab).
 */
import { z } from 'zod';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const MiB_PER_GiB = 1024;

export const PmemNamespaceSchema = z.strictObject({
  /** Unique on its host; what operators and the assignment record call it. */
  name: z.string('expected a namespace name').regex(NAME, 'expected a namespace name (1-63 letters, digits, _ . -; starting with a letter or digit)'),
  /** The path the host's libvirt/QEMU opens (as seen on that host). */
  path: z.string('expected an absolute path').startsWith('/', 'expected an absolute path'),
  /** Whole MiB, at least 2 (QEMU aligns nvdimm sizes to 2 MiB on x86). */
  sizeMiB: z.int('expected a whole number of MiB').min(2, 'expected at least 2 MiB').max(16 * 1024 * 1024, 'expected at most 16 TiB'),
});
export type PmemNamespace = z.infer<typeof PmemNamespaceSchema>;

/** A host's namespaces: names and paths each used once. */
export const PmemNamespacesSchema = z.array(PmemNamespaceSchema).superRefine((list, ctx) => {
  for (const field of ['name', 'path'] as const) {
    const first = new Map<string, number>();
    list.forEach((ns, i) => {
      const seen = first.get(ns[field]);
      if (seen === undefined) first.set(ns[field], i);
      else ctx.addIssue({ code: 'custom', path: [i, field], message: `'${ns[field]}' is already the ${field} of namespace ${seen}` });
    });
  }
});

export const PMEM_CLASS_PREFIX = 'CUSTOM_PMEM_NAMESPACE_';

/**
 * The resource class of a namespace of this size: CUSTOM_PMEM_NAMESPACE_64MB, _4GB (the largest
 * whole binary unit, named MB/GB as Nova's examples are). Same size, same class: a guest's device
 * can take any free namespace of its class on any host.
 */
export function pmemResourceClass(sizeMiB: number): string {
  if (!Number.isInteger(sizeMiB) || sizeMiB < 1) throw new Error(`a namespace size must be a whole number of MiB above 0, got ${sizeMiB}`);
  return sizeMiB % MiB_PER_GiB === 0 ? `${PMEM_CLASS_PREFIX}${sizeMiB / MiB_PER_GiB}GB` : `${PMEM_CLASS_PREFIX}${sizeMiB}MB`;
}

export function isPmemResourceClass(rc: string): boolean {
  return rc.startsWith(PMEM_CLASS_PREFIX);
}

/** The Placement inventory a host's namespaces make: class -> how many. */
export function pmemInventory(namespaces: readonly Pick<PmemNamespace, 'sizeMiB'>[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const ns of namespaces) {
    const rc = pmemResourceClass(ns.sizeMiB);
    total[rc] = (total[rc] ?? 0) + 1;
  }
  return total;
}
