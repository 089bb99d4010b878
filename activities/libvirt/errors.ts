/** Errors of the libvirt client: the daemon's own errors carry libvirt's codes unchanged. */
import { procedureName } from './protocol';
import { readNetwork, readOptDomain, readOptString, type DomainRef } from './remote-types';
import type { XdrReader } from './xdr';

/** virErrorNumber values we act on (include/libvirt/virterror.h). */
export const ErrorCode = {
  Ok: 0,
  InternalError: 1,
  NoMemory: 2,
  NoSupport: 3,
  NoConnect: 5,
  InvalidConn: 6,
  InvalidDomain: 7,
  InvalidArg: 8,
  OperationFailed: 9,
  XmlError: 27,
  DomExist: 28,
  OperationDenied: 29,
  SystemError: 38,
  Rpc: 39,
  NoDomain: 42,
  AuthFailed: 45,
  NoStoragePool: 49,
  NoStorageVol: 50,
  OperationInvalid: 55,
  ConfigUnsupported: 67,
  OperationTimeout: 68,
  MigratePersistFailed: 69,
  HookScriptFailed: 70,
  ArgumentUnsupported: 74,
  OperationAborted: 78,
  AuthCancelled: 79,
  MigrateUnsafe: 81,
  Overflow: 82,
  OperationUnsupported: 84,
  AgentUnresponsive: 86,
  ResourceBusy: 87,
  AccessDenied: 88,
  CpuIncompatible: 91,
  XmlInvalidSchema: 92,
  MigrateFinishOk: 93,
  AuthUnavailable: 94,
  DeviceMissing: 99,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** virErrorDomain values: which part of libvirt raised the error. */
export const ErrorDomain = {
  None: 0,
  Rpc: 7,
  Conf: 9,
  Qemu: 10,
  Remote: 13,
  Domain: 20,
  Security: 24,
  Cpu: 31,
  Capabilities: 44,
  Uri: 45,
  Auth: 46,
  Access: 55,
} as const;

/** virErrorLevel. */
export const ErrorLevel = {
  None: 0,
  Warning: 1,
  Error: 2,
} as const;

const codeNames = new Map<number, string>(Object.entries(ErrorCode).map(([k, v]) => [v, k]));

export function errorCodeName(code: number): string {
  return codeNames.get(code) ?? `code ${code}`;
}

/** The fields of libvirt's remote_error struct. */
export interface RemoteErrorFields {
  code: number;
  domain: number;
  message: string | null;
  level: number;
  dom: DomainRef | null;
  str1: string | null;
  str2: string | null;
  str3: string | null;
  int1: number;
  int2: number;
}

export function decodeRemoteError(r: XdrReader): RemoteErrorFields {
  const code = r.readInt();
  const domain = r.readInt();
  const message = readOptString(r);
  const level = r.readInt();
  const dom = readOptDomain(r);
  const str1 = readOptString(r);
  const str2 = readOptString(r);
  const str3 = readOptString(r);
  const int1 = r.readInt();
  const int2 = r.readInt();
  r.readOptional(readNetwork); // unused by libvirt, but part of the layout
  return { code, domain, message, level, dom, str1, str2, str3, int1, int2 };
}

/** An error reported by libvirtd (an ERROR reply): the call reached the daemon and failed there. */
export class LibvirtError extends Error {
  override name = 'LibvirtError';
  readonly code: number;
  readonly domain: number;
  readonly level: number;
  readonly remote: RemoteErrorFields;
  readonly procedure: number;

  constructor(fields: RemoteErrorFields, procedure: number) {
    super(fields.message ?? `libvirt error ${errorCodeName(fields.code)} in ${procedureName(procedure)}`);
    this.code = fields.code;
    this.domain = fields.domain;
    this.level = fields.level;
    this.remote = fields;
    this.procedure = procedure;
  }

  get codeName(): string {
    return errorCodeName(this.code);
  }

  is(code: ErrorCode): boolean {
    return this.code === code;
  }
}

export function isLibvirtError(err: unknown, code?: ErrorCode): err is LibvirtError {
  return err instanceof LibvirtError && (code === undefined || err.code === code);
}

/**
 * The connection dropped (or was closed) while a call was outstanding, or before it could be sent.
 * `mayHaveExecuted` says whether the daemon may have received the call: when true, the caller must
 * observe the daemon's state before retrying a non-idempotent call (e.g. a migration).
 */
export class ConnectionLostError extends Error {
  override name = 'ConnectionLostError';

  constructor(
    readonly reason: string,
    readonly mayHaveExecuted: boolean,
    readonly procedure?: number,
    options?: { cause?: unknown },
  ) {
    super(
      procedure === undefined
        ? `libvirt connection lost: ${reason}`
        : `libvirt connection lost during ${procedureName(procedure)} (${mayHaveExecuted ? 'the call may have executed' : 'the call was not sent'}): ${reason}`,
      options,
    );
  }
}

/** No reply within the call's deadline. The daemon may still execute (or be executing) the call. */
export class CallTimeoutError extends Error {
  override name = 'CallTimeoutError';
  readonly mayHaveExecuted = true;

  constructor(
    readonly procedure: number,
    readonly timeoutMs: number,
  ) {
    super(`no reply to ${procedureName(procedure)} within ${timeoutMs} ms; the call may still execute on the daemon`);
  }
}

/** The daemon sent something this client cannot decode (wrong layout, truncated data). */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}
