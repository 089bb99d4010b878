/** What the destination reports about itself, what the caller asks for, and what a rewrite records. */
import { z } from 'zod';
import { parseCpuSet } from './cpuset';
import { mapPath } from './path-map';

const absolutePath = z.string().startsWith('/', 'must be an absolute path');

const cpuSetSpec = z.string().refine(
  (s) => {
    try {
      parseCpuSet(s);
      return true;
    } catch {
      return false;
    }
  },
  { message: "must be a libvirt CPU set such as '0-3,6'" },
);

export const DestinationFactsSchema = z
  .object({
    hostName: z.string().min(1),
    /** The destination's address on the migration network. */
    migrationAddress: z.string().min(1),
    /** Where VNC/SPICE must listen on the destination; see graphics.ts for the policy when absent. */
    graphicsListen: z.string().min(1).optional(),
    /** Host NUMA nodes available to the guest. */
    numaNodes: z.array(z.number().int().min(0)),
    /** Host CPUs available for pinning, libvirt syntax ("0-3"). Without it, pinned guests are refused. */
    cpuSet: cpuSetSpec.optional(),
    /** Source path prefix -> destination path prefix (disks, kernels, firmware, vPMEM, chardev files). */
    pathMap: z.record(absolutePath, absolutePath).optional(),
    /** Exact source vPMEM backing path -> destination path; wins over pathMap. */
    pmemPaths: z.record(absolutePath, absolutePath).optional(),
    /**
     * Source vPMEM backing path -> the namespace path assigned to that device on the destination
     * (model/pmem/assignment.ts). When given, every vPMEM device must be in it (else refused), and
     * neither pmemPaths nor pathMap moves them.
     */
    pmemAssigned: z.record(absolutePath, absolutePath).optional(),
  })
  .superRefine((facts, ctx) => {
    // A chain (A -> B, B -> C) would make the rewrite depend on how often it ran.
    const map = facts.pathMap ?? {};
    for (const [from, to] of Object.entries(map)) {
      const again = mapPath(to, map);
      if (again && again.to !== to) {
        ctx.addIssue({
          code: 'custom',
          path: ['pathMap', from],
          message: `'${from}' maps to '${to}', which '${again.prefix}' maps again to '${again.to}': chained mappings are ambiguous`,
        });
      }
    }
  });

export type DestinationFacts = z.infer<typeof DestinationFactsSchema>;

export const PrepareOptionsSchema = z.object({
  /** Rename the domain on the destination (VIR_MIGRATE_PARAM_DEST_NAME); the only allowed <name> change. */
  destName: z.string().min(1).optional(),
  /** Keep <hostdev> devices (the caller knows they can migrate, e.g. vendor mdevs); default: refuse. */
  allowHostdev: z.boolean().optional(),
  /**
   * Whether the source's file-backed disks are on storage the destination sees at the same path.
   * Default true. When false, every file disk must be under pathMap or sharedPathPrefixes.
   */
  sharedStorage: z.boolean().optional(),
  /** Path prefixes known to be shared even when sharedStorage is false (e.g. an NFS mount). */
  sharedPathPrefixes: z.array(absolutePath).optional(),
  /** The source host's own addresses: a chardev that connects to one of them is moved to the destination. */
  sourceAddresses: z.array(z.string().min(1)).optional(),
});

export type PrepareOptions = z.infer<typeof PrepareOptionsSchema>;

/** One rewrite: where, old value, new value, and the reason in words an operator understands. */
export interface Change {
  path: string;
  from: string;
  to: string;
  why: string;
}

export interface PreparedXml {
  xml: string;
  changes: Change[];
}
