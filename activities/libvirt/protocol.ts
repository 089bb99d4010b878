/**
 * Program, version and procedure numbers of libvirt's RPC protocol, from libvirt's
 * src/remote/remote_protocol.x, src/rpc/virnetprotocol.x and src/rpc/virkeepaliveprotocol.x.
 * Only the procedures this client speaks are listed; the numbers are part of libvirt's stable ABI.
 */

export const REMOTE_PROGRAM = 0x20008086;
export const REMOTE_PROTOCOL_VERSION = 1;

export const KEEPALIVE_PROGRAM = 0x6b656570; // "keep"
export const KEEPALIVE_PROTOCOL_VERSION = 1;

export const KeepaliveProcedure = {
  Ping: 1,
  Pong: 2,
} as const;

export const MessageType = {
  Call: 0,
  Reply: 1,
  Message: 2,
  Stream: 3,
  CallWithFds: 4,
  ReplyWithFds: 5,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

export const MessageStatus = {
  Ok: 0,
  Error: 1,
  Continue: 2,
} as const;
export type MessageStatus = (typeof MessageStatus)[keyof typeof MessageStatus];

/** VIR_NET_MESSAGE_MAX: largest message, not counting the 4-byte length word. */
export const MESSAGE_MAX = 16 * 1024 * 1024;
/** The length word counts itself. */
export const LENGTH_WORD_BYTES = 4;
/** Serialised virNetMessageHeader: six 32-bit words. */
export const HEADER_BYTES = 24;

/** Limits from remote_protocol.x, enforced when decoding. */
export const Limits = {
  STRING_MAX: 4 * 1024 * 1024,
  MIGRATE_COOKIE_MAX: 16384,
  MIGRATE_PARAM_LIST_MAX: 64,
  JOB_STATS_MAX: 64,
  DOMAIN_LIST_MAX: 16384,
  /** Typed parameters of one domain's record in virConnectGetAllDomainStats. */
  DOMAIN_STATS_PARAMS_MAX: 262144,
  AUTH_TYPE_LIST_MAX: 20,
  UUID_BYTES: 16,
} as const;

export const Procedure = {
  ConnectOpen: 1,
  ConnectClose: 2,
  ConnectGetType: 3,
  ConnectGetVersion: 4,
  NodeGetInfo: 6,
  ConnectGetCapabilities: 7,
  DomainCreate: 9,
  DomainDefineXml: 11,
  DomainDestroy: 12,
  DomainGetXmlDesc: 14,
  DomainGetInfo: 16,
  DomainLookupById: 22,
  DomainLookupByName: 23,
  DomainLookupByUuid: 24,
  DomainResume: 28,
  DomainSuspend: 34,
  DomainUndefine: 35,
  ConnectGetHostname: 59,
  ConnectSupportsFeature: 60,
  AuthList: 66,
  AuthPolkit: 70,
  StoragePoolRefresh: 83,
  StoragePoolLookupByName: 84,
  StoragePoolLookupByVolume: 86,
  StoragePoolGetInfo: 87,
  StorageVolCreateXml: 93,
  StorageVolDelete: 94,
  StorageVolLookupByName: 95,
  StorageVolLookupByPath: 97,
  StorageVolGetInfo: 98,
  StorageVolGetXmlDesc: 99,
  NodeGetFreeMemory: 102,
  ConnectGetUri: 110,
  DomainIsActive: 150,
  ConnectGetLibVersion: 157,
  DomainAbortJob: 164,
  DomainMigrateSetMaxDowntime: 166,
  DomainCreateWithFlags: 196,
  DomainMigrateSetMaxSpeed: 207,
  DomainGetState: 212,
  DomainUndefineFlags: 231,
  DomainDestroyFlags: 234,
  DomainMigrateGetMaxSpeed: 242,
  ConnectListAllDomains: 273,
  DomainGetJobStats: 298,
  DomainMigratePerform3Params: 305,
  ConnectDomainEventCallbackRegisterAny: 316,
  ConnectDomainEventCallbackDeregisterAny: 317,
  DomainEventCallbackLifecycle: 318,
  ConnectGetDomainCapabilities: 342,
  ConnectGetAllDomainStats: 344,
  DomainDefineXmlFlags: 350,
  DomainEventCallbackMigrationIteration: 359,
  DomainEventCallbackJobCompleted: 363,
  DomainMigrateStartPostCopy: 364,
  DomainMigrateGetMaxDowntime: 387,
  StoragePoolLookupByTargetPath: 391,
  ConnectCompareHypervisorCpu: 393,
  DomainStartDirtyRateCalc: 427,
  DomainAbortJobFlags: 442,
} as const;
export type Procedure = (typeof Procedure)[keyof typeof Procedure];

const procedureNames = new Map<number, string>(Object.entries(Procedure).map(([k, v]) => [v, k]));

/** Human name of a procedure number, for error messages and logs. */
export function procedureName(proc: number): string {
  return procedureNames.get(proc) ?? `procedure ${proc}`;
}

/** virDrvFeature values asked with CONNECT_SUPPORTS_FEATURE (src/libvirt_internal.h). */
export const DriverFeature = {
  MigrationV3: 6,
  TypedParamString: 9,
  ProgramKeepalive: 10,
  XmlMigratable: 11,
  MigrationParams: 13,
  RemoteEventCallback: 14,
  RemoteCloseCallback: 15,
} as const;

/** remote_auth_type. */
export const AuthType = {
  None: 0,
  Sasl: 1,
  Polkit: 2,
} as const;
