import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CallTimeoutError,
  ConnectionLostError,
  DomainEventId,
  ErrorCode,
  KEEPALIVE_PROGRAM,
  LibvirtClient,
  LibvirtError,
  MessageType,
  Procedure,
  type ConnectionEvent,
  type DomainLifecycleEvent,
  type DomainMigrationIterationEvent,
  type DomainRef,
} from '../../../activities/libvirt';
import { readDomain, readOptString, writeDomain } from '../../../activities/libvirt/remote-types';
import { XdrReader, XdrWriter } from '../../../activities/libvirt/xdr';
import { eventPacket, FakeLibvirtd, lifecyclePayload, replyPacket, waitFor } from './fake-server';

const vm: DomainRef = { name: 'web-7', uuid: '5b3c7f3e-2f0e-4a54-9d1c-0f00d0000001', id: 3 };

let server: FakeLibvirtd;
let client: LibvirtClient | undefined;

beforeEach(async () => {
  server = await FakeLibvirtd.start();
});

afterEach(async () => {
  await client?.close().catch(() => undefined);
  client = undefined;
  await server.stop();
});

function connect(extra: Partial<Parameters<typeof LibvirtClient.connect>[0]> = {}): Promise<LibvirtClient> {
  return LibvirtClient.connect({ uri: `qemu+unix:///system?socket=${server.socketPath}`, keepalive: false, ...extra });
}

describe('RPC connection against a fake libvirtd', () => {
  it('authenticates, opens qemu:///system and asks for keepalive', async () => {
    client = await connect();
    const procs = server.last.calls().map((p) => p.header.procedure);
    expect(procs).toEqual([Procedure.AuthList, Procedure.ConnectOpen, Procedure.ConnectSupportsFeature]);
    const open = new XdrReader(server.last.calls(Procedure.ConnectOpen)[0]!.payload);
    expect(readOptString(open)).toBe('qemu:///system');
    expect(open.readUint()).toBe(0);
    expect(new XdrReader(server.last.calls(Procedure.ConnectSupportsFeature)[0]!.payload).readInt()).toBe(10);
    expect(client.keepaliveNegotiated).toBe(true);
  });

  it('matches concurrent calls answered out of order by serial', async () => {
    client = await connect();
    const held: { serial: number; reply: (p: Buffer) => void }[] = [];
    server.handler = (call) => {
      if (call.procedure !== Procedure.ConnectGetHostname) return 'default';
      held.push({ serial: call.serial, reply: (p) => call.reply(p) });
    };
    const results = [client.getHostname(), client.getHostname(), client.getHostname(), client.getHostname()];
    await waitFor(() => held.length === 4);
    const serials = held.map((h) => h.serial);
    expect(new Set(serials).size).toBe(4);
    for (const h of [...held].reverse()) h.reply(new XdrWriter().writeString(`host-${h.serial}`).toBuffer());
    expect(await Promise.all(results)).toEqual(serials.map((s) => `host-${s}`));
  });

  it('turns an ERROR reply into a LibvirtError with code, domain and message', async () => {
    client = await connect();
    server.handler = (call) => {
      if (call.procedure !== Procedure.DomainLookupByName) return 'default';
      call.replyError({ code: 42, domain: 10, message: "Domain not found: no domain with matching name 'x'" });
    };
    const err = await client.lookupDomainByName('x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LibvirtError);
    expect(err).toMatchObject({ code: ErrorCode.NoDomain, domain: 10, level: 2, procedure: Procedure.DomainLookupByName });
    expect((err as LibvirtError).codeName).toBe('NoDomain');
    expect((err as Error).message).toContain('no domain with matching name');
    expect(await client.getHostname()).toBe('fake-host'); // the connection stays usable
  });

  it('dispatches events interleaved with replies to the right callback id', async () => {
    client = await connect();
    const a: DomainLifecycleEvent[] = [];
    const b: DomainLifecycleEvent[] = [];
    const it: DomainMigrationIterationEvent[] = [];
    const subA = await client.onLifecycle((e) => a.push(e)); // callback 100
    await client.onLifecycle((e) => b.push(e), vm); // callback 101
    await client.onMigrationIteration((e) => it.push(e)); // callback 102
    const reg = server.last.calls(Procedure.ConnectDomainEventCallbackRegisterAny).map((p) => {
      const r = new XdrReader(p.payload);
      return { eventId: r.readInt(), dom: r.readOptional(readDomain) };
    });
    expect(reg).toEqual([
      { eventId: DomainEventId.Lifecycle, dom: null },
      { eventId: DomainEventId.Lifecycle, dom: vm },
      { eventId: DomainEventId.MigrationIteration, dom: null },
    ]);

    server.handler = (call) => {
      if (call.procedure !== Procedure.ConnectGetHostname) return 'default';
      const iteration = new XdrWriter().writeInt(102);
      writeDomain(iteration, vm);
      iteration.writeInt(4);
      call.conn.send(
        Buffer.concat([
          eventPacket(Procedure.DomainEventCallbackLifecycle, lifecyclePayload(101, vm, 3, 7)),
          replyPacket(call.procedure, call.serial, new XdrWriter().writeString('h').toBuffer()),
          eventPacket(Procedure.DomainEventCallbackLifecycle, lifecyclePayload(100, vm, 4, 4)),
          eventPacket(Procedure.DomainEventCallbackMigrationIteration, iteration.toBuffer()),
          eventPacket(Procedure.DomainEventCallbackLifecycle, lifecyclePayload(999, vm, 5, 1)), // unknown id: dropped
        ]),
      );
    };
    expect(await client.getHostname()).toBe('h');
    await waitFor(() => a.length === 1 && b.length === 1 && it.length === 1);
    expect(b[0]).toMatchObject({ callbackId: 101, event: 3, eventName: 'Suspended', detail: 7, detailName: 'Postcopy', dom: vm });
    expect(a[0]).toMatchObject({ callbackId: 100, eventName: 'Resumed', detailName: 'PostcopyFailed' });
    expect(it[0]).toMatchObject({ kind: 'migration-iteration', callbackId: 102, iteration: 4, dom: vm });

    await subA.unsubscribe();
    const dereg = server.last.calls(Procedure.ConnectDomainEventCallbackDeregisterAny);
    expect(new XdrReader(dereg[0]!.payload).readInt()).toBe(100);
  });

  it('delivers an event that arrives in the same chunk as its registration reply', async () => {
    client = await connect();
    server.handler = (call) => {
      if (call.procedure !== Procedure.ConnectDomainEventCallbackRegisterAny) return 'default';
      call.conn.send(
        Buffer.concat([
          replyPacket(call.procedure, call.serial, new XdrWriter().writeInt(7).toBuffer()),
          eventPacket(Procedure.DomainEventCallbackLifecycle, lifecyclePayload(7, vm, 2, 0)),
        ]),
      );
    };
    const got: DomainLifecycleEvent[] = [];
    await client.onLifecycle((e) => got.push(e));
    await waitFor(() => got.length === 1);
    expect(got[0]).toMatchObject({ eventName: 'Started', detailName: 'Booted' });
  });

  it('answers the daemon\'s keepalive PING with a PONG', async () => {
    client = await connect();
    server.last.sendPing();
    await waitFor(() => server.last.received.some((p) => p.header.program === KEEPALIVE_PROGRAM));
    const pong = server.last.received.find((p) => p.header.program === KEEPALIVE_PROGRAM)!;
    expect(pong.header).toMatchObject({ procedure: 2, type: MessageType.Message, serial: 0, status: 0 });
    expect(client.connection!.stats.pingsReceived).toBe(1);
  });

  it('pings a silent daemon and declares the connection dead after the missed PONGs', async () => {
    client = await connect({ keepalive: { intervalMs: 40, count: 3 } });
    server.handler = (call) => (call.procedure === Procedure.ConnectGetHostname ? undefined : 'default'); // never answers
    const t0 = Date.now();
    const err = await client.getHostname({ timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionLostError);
    expect((err as ConnectionLostError).reason).toMatch(/keepalive/);
    expect((err as ConnectionLostError).mayHaveExecuted).toBe(true);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(server.last.received.filter((p) => p.header.program === KEEPALIVE_PROGRAM && p.header.procedure === 1).length).toBeGreaterThanOrEqual(1);
  });

  it('times out a call without breaking the connection, and drops the late reply', async () => {
    client = await connect();
    let late: (() => void) | undefined;
    server.handler = (call) => {
      if (call.procedure !== Procedure.DomainGetJobStats) return 'default';
      late = () => call.reply(new XdrWriter().writeInt(0).writeUint(0).toBuffer());
    };
    const err = await client.domainGetJobStats(vm, 0, { timeoutMs: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CallTimeoutError);
    expect((err as CallTimeoutError).mayHaveExecuted).toBe(true);
    late!();
    expect(await client.getHostname()).toBe('fake-host');
  });

  it('fails pending calls on a dropped socket, reconnects, re-registers events and replays nothing', async () => {
    const events: ConnectionEvent[] = [];
    client = await connect({ reconnect: { initialDelayMs: 20, maxDelayMs: 50 } });
    client.onConnectionEvent((e) => events.push(e));
    const got: DomainLifecycleEvent[] = [];
    await client.onLifecycle((e) => got.push(e));
    server.handler = (call) => (call.procedure === Procedure.DomainMigratePerform3Params ? undefined : 'default');
    const migrating = client
      .domainMigratePerform3Params(vm, { dconnuri: 'qemu+tcp://host-b/system', params: [], flags: 3 })
      .catch((e: unknown) => e);
    await waitFor(() => server.last.calls(Procedure.DomainMigratePerform3Params).length === 1);
    const first = server.last;

    server.dropAll();
    const err = await migrating;
    expect(err).toBeInstanceOf(ConnectionLostError);
    expect((err as ConnectionLostError).mayHaveExecuted).toBe(true);
    expect((err as ConnectionLostError).procedure).toBe(Procedure.DomainMigratePerform3Params);
    const whileDown = await client.getHostname().catch((e: unknown) => e);
    if (whileDown instanceof ConnectionLostError) expect(whileDown.mayHaveExecuted).toBe(false);

    await client.waitConnected(2000);
    const second = server.last;
    expect(second).not.toBe(first);
    expect(events.map((e) => e.type)).toEqual(['disconnected', 'reconnected']);
    expect(second.calls(Procedure.DomainMigratePerform3Params)).toHaveLength(0);
    const reregistered = second.calls(Procedure.ConnectDomainEventCallbackRegisterAny);
    expect(reregistered).toHaveLength(1);
    expect(new XdrReader(reregistered[0]!.payload).readInt()).toBe(DomainEventId.Lifecycle);

    // The new callback id (assigned by the new connection) reaches the original handler.
    second.sendEvent(Procedure.DomainEventCallbackLifecycle, lifecyclePayload(101, vm, 5, 1));
    await waitFor(() => got.length === 1);
    expect(got[0]).toMatchObject({ callbackId: 101, eventName: 'Stopped', detailName: 'Destroyed' });
  });

  it('tears the connection down when the daemon sends an oversized frame', async () => {
    client = await connect();
    server.handler = (call) => {
      if (call.procedure !== Procedure.ConnectGetHostname) return 'default';
      const bad = Buffer.alloc(4);
      bad.writeUInt32BE(0x7fffffff);
      call.conn.send(bad);
    };
    const err = await client.getHostname().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionLostError);
    expect((err as Error).message).toMatch(/invalid packet length/);
    expect(client.isConnected).toBe(false);
  });
});

describe('procedure layouts', () => {
  it('encodes MigratePerform3Params exactly as remote_domain_migrate_perform3_params_args', async () => {
    client = await connect();
    server.handler = (call) => {
      if (call.procedure !== Procedure.DomainMigratePerform3Params) return 'default';
      call.reply(new XdrWriter().writeVarOpaque(Buffer.from('cookie')).toBuffer());
    };
    const cookie = await client.domainMigratePerform3Params(vm, {
      dconnuri: 'qemu+tcp://host-b/system',
      params: [
        { field: 'destination_xml', type: 7, value: '<domain/>' },
        { field: 'bandwidth', type: 4, value: 100n },
      ],
      flags: 0x800b,
    });
    expect(cookie.toString()).toBe('cookie');

    const expected = new XdrWriter();
    writeDomain(expected, vm); // remote_nonnull_domain dom
    expected.writeOptional('qemu+tcp://host-b/system', (w, s) => w.writeString(s)); // remote_string dconnuri
    expected.writeUint(2); // remote_typed_param params<64>
    expected.writeString('destination_xml').writeInt(7).writeString('<domain/>');
    expected.writeString('bandwidth').writeInt(4).writeUhyper(100n);
    expected.writeVarOpaque(Buffer.alloc(0)); // opaque cookie_in<>
    expected.writeUint(0x800b); // unsigned int flags
    expect(server.last.calls(Procedure.DomainMigratePerform3Params)[0]!.payload.toString('hex')).toBe(expected.toBuffer().toString('hex'));
  });

  it('decodes job stats, state and list replies', async () => {
    client = await connect();
    server.handler = (call) => {
      const w = new XdrWriter();
      switch (call.procedure) {
        case Procedure.DomainGetJobStats:
          w.writeInt(1).writeUint(3);
          w.writeString('time_elapsed').writeInt(4).writeUhyper(1500n);
          w.writeString('memory_iteration').writeInt(4).writeUhyper(2n);
          w.writeString('memory_dirty_rate').writeInt(4).writeUhyper(12345n);
          break;
        case Procedure.DomainGetState:
          w.writeInt(3).writeInt(12);
          break;
        case Procedure.ConnectListAllDomains:
          w.writeUint(1);
          writeDomain(w, vm);
          w.writeUint(1);
          break;
        default:
          return 'default';
      }
      call.reply(w.toBuffer());
    };
    expect(await client.domainGetJobStats(vm)).toMatchObject({ typeName: 'Bounded', timeElapsedMs: 1500, memoryIteration: 2, memoryDirtyRate: 12345 });
    expect(await client.domainGetState(vm)).toEqual({ state: 3, stateName: 'paused', reason: 12, reasonName: 'Postcopy' });
    expect(await client.listAllDomains()).toEqual([vm]);
  });
});

describe('manual reconnection', () => {
  it('reopens on demand without automatic reconnection and never re-sends the failed call', async () => {
    client = await connect();
    server.handler = (call) => (call.procedure === Procedure.DomainSuspend ? undefined : 'default');
    const suspending = client.domainSuspend(vm).catch((e: unknown) => e);
    await waitFor(() => server.last.calls(Procedure.DomainSuspend).length === 1);
    server.dropAll();
    expect(await suspending).toBeInstanceOf(ConnectionLostError);
    await waitFor(() => !client!.isConnected);
    await client.reconnect();
    expect(client.isConnected).toBe(true);
    expect(await client.getHostname()).toBe('fake-host');
    expect(server.connections).toHaveLength(2);
    expect(server.last.calls(Procedure.DomainSuspend)).toHaveLength(0);
  });
});
