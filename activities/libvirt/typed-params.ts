/**
 * virTypedParameter on the wire (remote_typed_param): a field name and a value union
 * discriminated by VIR_TYPED_PARAM_* type.
 */
import { readNonnullString, writeNonnullString } from './remote-types';
import { XdrError, type XdrReader, type XdrWriter } from './xdr';

export const TypedParamType = {
  Int: 1,
  Uint: 2,
  Llong: 3,
  Ullong: 4,
  Double: 5,
  Boolean: 6,
  String: 7,
} as const;
export type TypedParamType = (typeof TypedParamType)[keyof typeof TypedParamType];

/** VIR_TYPED_PARAM_FIELD_LENGTH: field names are at most 79 bytes (80 with the NUL). */
export const TYPED_PARAM_FIELD_MAX = 79;

export type TypedParam =
  | { field: string; type: typeof TypedParamType.Int; value: number }
  | { field: string; type: typeof TypedParamType.Uint; value: number }
  | { field: string; type: typeof TypedParamType.Llong; value: bigint }
  | { field: string; type: typeof TypedParamType.Ullong; value: bigint }
  | { field: string; type: typeof TypedParamType.Double; value: number }
  | { field: string; type: typeof TypedParamType.Boolean; value: boolean }
  | { field: string; type: typeof TypedParamType.String; value: string };

export type TypedParamValue = TypedParam['value'];

export const param = {
  int: (field: string, value: number): TypedParam => ({ field, type: TypedParamType.Int, value }),
  uint: (field: string, value: number): TypedParam => ({ field, type: TypedParamType.Uint, value }),
  llong: (field: string, value: bigint | number): TypedParam => ({ field, type: TypedParamType.Llong, value: BigInt(value) }),
  ullong: (field: string, value: bigint | number): TypedParam => ({ field, type: TypedParamType.Ullong, value: BigInt(value) }),
  double: (field: string, value: number): TypedParam => ({ field, type: TypedParamType.Double, value }),
  boolean: (field: string, value: boolean): TypedParam => ({ field, type: TypedParamType.Boolean, value }),
  string: (field: string, value: string): TypedParam => ({ field, type: TypedParamType.String, value }),
};

export function writeTypedParam(w: XdrWriter, p: TypedParam): void {
  if (Buffer.byteLength(p.field, 'utf8') > TYPED_PARAM_FIELD_MAX) throw new XdrError(`typed parameter name too long: "${p.field}"`);
  writeNonnullString(w, p.field);
  w.writeInt(p.type);
  switch (p.type) {
    case TypedParamType.Int:
      w.writeInt(p.value);
      break;
    case TypedParamType.Uint:
      w.writeUint(p.value);
      break;
    case TypedParamType.Llong:
      w.writeHyper(p.value);
      break;
    case TypedParamType.Ullong:
      w.writeUhyper(p.value);
      break;
    case TypedParamType.Double:
      w.writeDouble(p.value);
      break;
    case TypedParamType.Boolean:
      w.writeInt(p.value ? 1 : 0); // the wire carries an int, not an XDR bool
      break;
    case TypedParamType.String:
      writeNonnullString(w, p.value);
      break;
  }
}

export function readTypedParam(r: XdrReader): TypedParam {
  const field = readNonnullString(r);
  const type = r.readInt();
  switch (type) {
    case TypedParamType.Int:
      return { field, type, value: r.readInt() };
    case TypedParamType.Uint:
      return { field, type, value: r.readUint() };
    case TypedParamType.Llong:
      return { field, type, value: r.readHyper() };
    case TypedParamType.Ullong:
      return { field, type, value: r.readUhyper() };
    case TypedParamType.Double:
      return { field, type, value: r.readDouble() };
    case TypedParamType.Boolean:
      return { field, type, value: r.readInt() !== 0 };
    case TypedParamType.String:
      return { field, type, value: readNonnullString(r) };
    default:
      throw new XdrError(`unknown typed parameter type ${type} for "${field}"`);
  }
}

export function writeTypedParams(w: XdrWriter, params: readonly TypedParam[], max: number): void {
  w.writeArray(params, writeTypedParam, max);
}

export function readTypedParams(r: XdrReader, max: number): TypedParam[] {
  return r.readArray(readTypedParam, max);
}

/** Last value per field name (libvirt allows repeated names only for "multiple" fields). */
export function typedParamsToRecord(params: readonly TypedParam[]): Record<string, TypedParamValue> {
  const out: Record<string, TypedParamValue> = {};
  for (const p of params) out[p.field] = p.value;
  return out;
}

/** Numeric value of a parameter as a number, whatever its integer width; undefined when absent. */
export function numberParam(params: readonly TypedParam[], field: string): number | undefined {
  const p = params.find((x) => x.field === field);
  if (!p) return undefined;
  if (typeof p.value === 'bigint') return Number(p.value);
  if (typeof p.value === 'number') return p.value;
  if (typeof p.value === 'boolean') return p.value ? 1 : 0;
  return undefined;
}

/** VIR_MIGRATE_PARAM_* names (libvirt-domain.h). */
export const MigrateParam = {
  Uri: 'migrate_uri',
  DestName: 'destination_name',
  DestXml: 'destination_xml',
  PersistXml: 'persistent_xml',
  Bandwidth: 'bandwidth',
  BandwidthPostcopy: 'bandwidth.postcopy',
  GraphicsUri: 'graphics_uri',
  ListenAddress: 'listen_address',
  MigrateDisks: 'migrate_disks',
  DisksPort: 'disks_port',
  DisksUri: 'disks_uri',
  Compression: 'compression',
  CompressionMtLevel: 'compression.mt.level',
  CompressionMtThreads: 'compression.mt.threads',
  CompressionMtDthreads: 'compression.mt.dthreads',
  CompressionXbzrleCache: 'compression.xbzrle.cache',
  AutoConvergeInitial: 'auto_converge.initial',
  AutoConvergeIncrement: 'auto_converge.increment',
  ParallelConnections: 'parallel.connections',
  /** VIR_MIGRATE_PARAM_BANDWIDTH_AVAIL_SWITCHOVER (libvirt 10.0): QEMU's avail-switchover-bandwidth, MiB/s. */
  AvailableSwitchoverBandwidth: 'bandwidth.avail.switchover',
  TlsDestination: 'tls.destination',
} as const;

/**
 * Migration parameters with their libvirt types (the QEMU driver rejects a parameter sent with
 * another type than the one in its table, so the types here are not a choice).
 */
export interface MigrationParamOptions {
  /** Hypervisor migration URI, e.g. "tcp://10.0.0.2" (VIR_MIGRATE_PARAM_URI). */
  uri?: string;
  destName?: string;
  /** Domain XML for the destination (host-side changes only). */
  destXml?: string;
  /** Persistent definition to store on the destination (with VIR_MIGRATE_PERSIST_DEST). */
  persistXml?: string;
  /** MiB/s; 0 = libvirt's default. */
  bandwidthMiBs?: number;
  /** MiB/s during post-copy; 0 = unlimited. */
  bandwidthPostcopyMiBs?: number;
  graphicsUri?: string;
  listenAddress?: string;
  migrateDisks?: readonly string[];
  disksPort?: number;
  disksUri?: string;
  compression?: readonly string[];
  compressionMtLevel?: number;
  compressionMtThreads?: number;
  compressionMtDthreads?: number;
  compressionXbzrleCacheBytes?: number | bigint;
  autoConvergeInitial?: number;
  autoConvergeIncrement?: number;
  parallelConnections?: number;
  /** MiB/s the switch-over may count on (QEMU then decides with it instead of its own estimate). */
  availableSwitchoverBandwidthMiBs?: number;
  tlsDestination?: string;
}

export function buildMigrationParams(o: MigrationParamOptions): TypedParam[] {
  const out: TypedParam[] = [];
  const str = (field: string, v: string | undefined) => v !== undefined && out.push(param.string(field, v));
  const int = (field: string, v: number | undefined) => v !== undefined && out.push(param.int(field, v));
  const ull = (field: string, v: number | bigint | undefined) => v !== undefined && out.push(param.ullong(field, v));
  str(MigrateParam.Uri, o.uri);
  str(MigrateParam.DestName, o.destName);
  str(MigrateParam.DestXml, o.destXml);
  str(MigrateParam.PersistXml, o.persistXml);
  ull(MigrateParam.Bandwidth, o.bandwidthMiBs);
  ull(MigrateParam.BandwidthPostcopy, o.bandwidthPostcopyMiBs);
  str(MigrateParam.GraphicsUri, o.graphicsUri);
  str(MigrateParam.ListenAddress, o.listenAddress);
  for (const disk of o.migrateDisks ?? []) str(MigrateParam.MigrateDisks, disk);
  int(MigrateParam.DisksPort, o.disksPort);
  str(MigrateParam.DisksUri, o.disksUri);
  for (const method of o.compression ?? []) str(MigrateParam.Compression, method);
  int(MigrateParam.CompressionMtLevel, o.compressionMtLevel);
  int(MigrateParam.CompressionMtThreads, o.compressionMtThreads);
  int(MigrateParam.CompressionMtDthreads, o.compressionMtDthreads);
  ull(MigrateParam.CompressionXbzrleCache, o.compressionXbzrleCacheBytes);
  int(MigrateParam.AutoConvergeInitial, o.autoConvergeInitial);
  int(MigrateParam.AutoConvergeIncrement, o.autoConvergeIncrement);
  int(MigrateParam.ParallelConnections, o.parallelConnections);
  ull(MigrateParam.AvailableSwitchoverBandwidth, o.availableSwitchoverBandwidthMiBs);
  str(MigrateParam.TlsDestination, o.tlsDestination);
  return out;
}
