/** Public API of the libvirt RPC client. */
export { LibvirtClient } from './client';
export type { DomainCapabilitiesQuery, MigratePerformParams, NodeInfo } from './client';
export type { CallParams, ConnectionEvent, EventSubscription, LibvirtClientOptions, ReconnectOptions } from './client-core';
export { RpcConnection } from './connection';
export type { CallOptions, EventMessage, KeepaliveOptions, RpcConnectionOptions, SocketFactory } from './connection';
export * from './constants';
export * from './domain-state';
export * from './errors';
export * from './events';
export { encodePacket, FramingError, MAX_PACKET_BYTES, PacketDecoder } from './framing';
export type { Packet, PacketHeader } from './framing';
export * from './job-stats';
export * from './protocol';
export { decodeVersion, uuidFromBytes, uuidToBytes } from './remote-types';
export type { DomainRef, Version } from './remote-types';
export * from './typed-params';
export * from './uri';
export { XdrError, XdrReader, XdrWriter } from './xdr';
