import fs from 'node:fs';
import { z } from 'zod';
import { formatJsonPath, hasValue, jsonValueLines, lineOf, type JsonPath } from './json-lines';
import { parseLibvirtUri } from './libvirt/uri';
import { PmemNamespacesSchema } from '../model/pmem/namespace';

/**
 * The host inventory: every libvirt host ferry may migrate from or to, and how to reach each.
 * Production reads it from a JSON file (FERRY_HOSTS_FILE):
 *
 *   { "hosts": [ { "name": "host-a", "uri": "qemu+tls://host-a.example/system",
 *                  "peerUri": "qemu+tls://host-a.example/system", "rp": "<uuid>",
 *                  "migrationUri": "tcp://10.0.0.1", "tls": { … }, "limits": { … } } ] }
 *
 * A bare array of hosts (the first format) is still read. The lab derives its inventory from its
 * state (lab/inventory.ts). Unknown fields are refused: a misspelt optional field would be ignored.
 */
const HOST_NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;
/** What libvirt's own client dials (the SOURCE daemon, for peer-to-peer): any transport, e.g. qemu+ssh. */
const ANY_LIBVIRT_URI = /^[a-z0-9]+(\+[a-z0-9]+)?:\/\/[^/?\s]*\/(system|session)(\?.*)?$/;
const MIGRATION_URI = /^(tcp|rdma):\/\/(\[[0-9a-fA-F:]+\]|[^\s/:[\]]+)(:\d{1,5})?$/;

/** A URI ferry's own libvirt client can open (activities/libvirt/uri.ts): unix, tcp or tls, to /system or /session. */
function isWorkerLibvirtUri(uri: string): boolean {
  if (!ANY_LIBVIRT_URI.test(uri)) return false;
  try {
    parseLibvirtUri(uri);
    return true;
  } catch {
    return false;
  }
}

export const HostTlsSchema = z.strictObject({
  /** PEM of the CA that signed the host's libvirtd certificate; absent: the system's roots. */
  caCert: z.string().min(1, 'expected the path of a PEM file').optional(),
  /** The worker's client certificate and key (libvirtd's TLS normally asks for one). */
  clientCert: z.string().min(1, 'expected the path of a PEM file'),
  clientKey: z.string().min(1, 'expected the path of a PEM file'),
});
export type HostTls = z.infer<typeof HostTlsSchema>;

export const HostLimitsSchema = z.strictObject({
  /** At most this many migrations out of the host at once: admission (drains and single migrations) lowers its limits to it. */
  maxOutgoingMigrations: z.int('expected a whole number').min(1, 'expected at least 1').max(64, 'expected at most 64').optional(),
  /** At most this many migrations into the host at once: admission (drains and single migrations) lowers its limits to it. */
  maxIncomingMigrations: z.int('expected a whole number').min(1, 'expected at least 1').max(64, 'expected at most 64').optional(),
});

/**
 * The host's persistent-memory namespaces (vPMEM backing), published to Placement as one custom
 * resource class per size (model/pmem/namespace.ts), and where the worker keeps the record of
 * which namespace went to which migration (one file per namespace, created exclusively: every
 * worker must see the same directory).
 */
export const HostPmemSchema = z.strictObject({
  namespaces: PmemNamespacesSchema.min(1, 'expected at least one namespace (leave pmem out for a host without any)'),
  assignmentsDir: z.string('expected an absolute path').startsWith('/', 'expected an absolute path'),
});
export type HostPmem = z.infer<typeof HostPmemSchema>;

export const HostEntrySchema = z
  .strictObject({
    /** The name operators use and libvirt's hostname on that machine. */
    name: z.string('expected a host name').regex(HOST_NAME, 'expected a host name (letters, digits, _ . -; starting and ending with a letter or digit)'),
    /** How the worker reaches the host's libvirtd, e.g. qemu+tls://host-b.example/system. */
    uri: z.string('expected a libvirt URI like qemu+tcp://host/system').refine(isWorkerLibvirtUri, {
      message: 'expected a libvirt URI like qemu+tcp://host/system (transports unix, tcp or tls; path /system or /session)',
    }),
    /** How the SOURCE daemon reaches this host's libvirtd for peer-to-peer migration. */
    peerUri: z.string('expected a libvirt URI like qemu+tcp://host/system').regex(ANY_LIBVIRT_URI, {
      message: "expected the libvirt URI the source's libvirtd dials, like qemu+tcp://host-b/system",
    }),
    /** Where QEMU's migration stream goes on this host (VIR_MIGRATE_PARAM_URI); absent: libvirt picks the host's name. */
    migrationUri: z.string().regex(MIGRATION_URI, { message: 'expected the address of the migration stream, like tcp://10.0.0.2 or tcp://10.0.0.2:49152' }).optional(),
    /** The host's resource provider in Placement. */
    rp: z.uuid("expected the UUID of the host's resource provider in Placement"),
    /** Files for a qemu+tls uri. */
    tls: HostTlsSchema.optional(),
    limits: HostLimitsSchema.optional(),
    /** The speed of the host's migration link, in MiB/s: what `ferry forecast` assumes for a path (the slower end). */
    linkMiBps: z.number('expected a number of MiB/s').positive('expected a link speed above 0 MiB/s').max(1_000_000, 'expected at most 1000000 MiB/s').optional(),
    pmem: HostPmemSchema.optional(),
  })
  .superRefine((h, ctx) => {
    if (h.tls && !/^[a-z0-9]+\+tls:/.test(h.uri)) ctx.addIssue({ code: 'custom', path: ['tls'], message: 'TLS files are only for a qemu+tls:// uri' });
  });
export type HostEntry = z.infer<typeof HostEntrySchema>;

/** Names and resource providers are each one host's: a second use names the first. */
function refineUnique(hosts: HostEntry[], ctx: z.RefinementCtx, at: (n: number) => JsonPath) {
  for (const field of ['name', 'rp'] as const) {
    const first = new Map<string, number>();
    hosts.forEach((h, n) => {
      const seen = first.get(h[field]);
      if (seen === undefined) first.set(h[field], n);
      else ctx.addIssue({ code: 'custom', path: [...at(n), field], message: `'${h[field]}' is already the ${field} of ${formatJsonPath(at(seen))}` });
    });
  }
}

export const HostInventorySchema = z.array(HostEntrySchema).min(1, 'expected at least one host').superRefine((hosts, ctx) => refineUnique(hosts, ctx, (n) => [n]));
export type HostInventory = z.infer<typeof HostInventorySchema>;

/** The file: { "hosts": [...] }, or the first format's bare array. */
export const HostInventoryFileSchema = z.union([
  z.strictObject({ hosts: z.array(HostEntrySchema, 'expected an array of hosts').min(1, 'expected at least one host') }).superRefine((f, ctx) =>
    refineUnique(f.hosts, ctx, (n) => ['hosts', n])),
  HostInventorySchema,
]);

/** Reads and validates FERRY_HOSTS_FILE; every problem names its line and field (`hosts.json line 7: hosts[1].uri: …`). */
export function loadHostInventory(file: string): HostInventory {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch (err) {
    throw new Error(`cannot read the host inventory ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const at = /at position (\d+)/.exec(message);
    const line = at ? text.slice(0, Number(at[1])).split('\n').length : undefined;
    throw new Error(`host inventory ${file}${line ? ` line ${line}` : ''}: not JSON: ${message}`);
  }
  // The first format is an array; the object format's issues come from its branch alone.
  const parsed = (Array.isArray(raw) ? HostInventorySchema : HostInventoryFileSchema.options[0]).safeParse(raw);
  const lines = jsonValueLines(text);
  const located = (path: JsonPath, message: string) => ({ line: lineOf(lines, path), text: `${formatJsonPath(path)}: ${message}` });
  const report = (problems: Array<{ line: number; text: string }>) =>
    new Error(`host inventory ${file} is invalid: ${problems.sort((a, b) => a.line - b.line).map((p) => `${file} line ${p.line}: ${p.text}`).join('; ')}`);
  if (!parsed.success) {
    throw report(
      parsed.error.issues.flatMap((i) => {
        const path = i.path.map(asPathPart);
        if (i.code === 'unrecognized_keys') return i.keys.map((k) => located([...path, k], `unknown field (allowed: ${allowedFields(path)})`));
        // A required field that is absent: said so, on the line of the object that lacks it.
        const missing = i.code === 'invalid_type' && path.length > 0 && !hasValue(lines, path);
        return [located(path, missing ? `missing (${i.message})` : i.message)];
      }),
    );
  }
  const hosts = Array.isArray(parsed.data) ? parsed.data : parsed.data.hosts;
  const prefix: JsonPath = Array.isArray(raw) ? [] : ['hosts'];
  const unreadable = hosts.flatMap((h, n) =>
    (['caCert', 'clientCert', 'clientKey'] as const).flatMap((k) => {
      const path = h.tls?.[k];
      if (path === undefined) return [];
      try {
        fs.accessSync(path, fs.constants.R_OK);
        return [];
      } catch (err) {
        return [located([...prefix, n, 'tls', k], `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)];
      }
    }),
  );
  if (unreadable.length > 0) throw report(unreadable);
  return hosts;
}

function asPathPart(p: PropertyKey): string | number {
  return typeof p === 'number' ? p : String(p);
}

/** The fields an object at that path may have, for "unknown field" messages. */
function allowedFields(path: JsonPath): string {
  const last = path[path.length - 1];
  const shape = last === 'tls' ? HostTlsSchema.shape : last === 'limits' ? HostLimitsSchema.shape : last === 'pmem' ? HostPmemSchema.shape
    : typeof last === 'number' ? (path[path.length - 2] === 'namespaces' ? { name: null, path: null, sizeMiB: null } : HostEntrySchema.shape) : { hosts: null };
  return Object.keys(shape).join(', ');
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
