import fs from 'node:fs';
import { z } from 'zod';

/**
 * The host inventory: every libvirt host ferry may migrate from or to. Production reads it from
 * a file (FERRY_HOSTS_FILE); the lab derives it from its state (lab/inventory.ts).
 */
export const HostEntrySchema = z.object({
  /** The name operators use and libvirt's hostname on that machine. */
  name: z.string().min(1),
  /** How the worker reaches the host's libvirtd, e.g. qemu+tls://host-b.example/system. */
  uri: z.string().min(1),
  /** How the SOURCE daemon reaches this host's libvirtd for peer-to-peer migration. */
  peerUri: z.string().min(1),
  /** The host's resource provider in Placement. */
  rp: z.string().uuid(),
});
export type HostEntry = z.infer<typeof HostEntrySchema>;

export const HostInventorySchema = z
  .array(HostEntrySchema)
  .min(1)
  .refine((hosts) => new Set(hosts.map((h) => h.name)).size === hosts.length, 'host names must be unique');
export type HostInventory = z.infer<typeof HostInventorySchema>;

export function loadHostInventory(file: string): HostInventory {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read the host inventory ${file}: ${(err as Error).message}`);
  }
  const parsed = HostInventorySchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`host inventory ${file} is invalid: ${issues}`);
  }
  return parsed.data;
}

export class Inventory {
  constructor(readonly hosts: HostInventory) {}

  /** The host entry, or an error that lists the hosts ferry knows. */
  get(name: string): HostEntry {
    const h = this.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`unknown host '${name}': ferry knows ${this.hosts.map((x) => x.name).join(', ')}`);
    return h;
  }

  has(name: string): boolean {
    return this.hosts.some((x) => x.name === name);
  }

  /** Why a host name is not usable, for refusals; undefined when it is known. */
  unknownHost(name: string): string | undefined {
    return this.has(name) ? undefined : `unknown host '${name}': ferry knows ${this.hosts.map((x) => x.name).join(', ')}`;
  }

  byRp(rp: string): HostEntry | undefined {
    return this.hosts.find((h) => h.rp === rp);
  }
}
