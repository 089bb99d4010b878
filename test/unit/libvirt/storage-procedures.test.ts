/**
 * The storage procedures' wire layouts against a fake libvirtd: each call's arguments byte for
 * byte as remote_protocol.x lays them out, and each reply decoded into its typed result.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, LibvirtClient, LibvirtError, Procedure, type StoragePoolRef, type StorageVolRef } from '../../../activities/libvirt';
import { writePool, writeVol } from '../../../activities/libvirt/storage';
import { XdrWriter } from '../../../activities/libvirt/xdr';
import { FakeLibvirtd } from './fake-server';

const pool: StoragePoolRef = { name: 'local', uuid: '0f0e0d0c-0b0a-4908-8706-050403020100' };
const vol: StorageVolRef = { pool: 'local', name: 'web-7.qcow2', key: '/var/lib/ferry/local/web-7.qcow2' };

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

const connect = () => LibvirtClient.connect({ uri: `qemu+unix:///system?socket=${server.socketPath}`, keepalive: false });
const hex = (w: XdrWriter) => w.toBuffer().toString('hex');
const sent = (procedure: number) => server.last.calls(procedure)[0]!.payload.toString('hex');

describe('storage procedure layouts', () => {
  it('pool lookups send a path, a name or a volume and decode remote_nonnull_storage_pool', async () => {
    client = await connect();
    server.handler = (call) => {
      const lookups: number[] = [Procedure.StoragePoolLookupByTargetPath, Procedure.StoragePoolLookupByName, Procedure.StoragePoolLookupByVolume];
      if (!lookups.includes(call.procedure)) return 'default';
      const w = new XdrWriter();
      writePool(w, pool);
      call.reply(w.toBuffer());
    };
    expect(await client.storagePoolLookupByTargetPath('/var/lib/ferry/local')).toEqual(pool);
    expect(await client.storagePoolLookupByName('local')).toEqual(pool);
    expect(await client.storagePoolLookupByVolume(vol)).toEqual(pool);
    expect(sent(Procedure.StoragePoolLookupByTargetPath)).toBe(hex(new XdrWriter().writeString('/var/lib/ferry/local')));
    expect(sent(Procedure.StoragePoolLookupByName)).toBe(hex(new XdrWriter().writeString('local')));
    const byVol = new XdrWriter();
    writeVol(byVol, vol);
    expect(sent(Procedure.StoragePoolLookupByVolume)).toBe(hex(byVol));
    expect(Procedure.StoragePoolLookupByTargetPath).toBe(391);
  });

  it('pool info decodes state (a char as a 4-byte int) and three unsigned hypers; refresh sends pool + flags', async () => {
    client = await connect();
    server.handler = (call) => {
      if (call.procedure === Procedure.StoragePoolGetInfo) {
        call.reply(new XdrWriter().writeUint(2).writeUhyper(10n * 2n ** 30n).writeUhyper(3n * 2n ** 30n).writeUhyper(7n * 2n ** 30n).toBuffer());
        return;
      }
      return 'default';
    };
    expect(await client.storagePoolGetInfo(pool)).toEqual({
      state: 2, capacityBytes: 10 * 2 ** 30, allocationBytes: 3 * 2 ** 30, availableBytes: 7 * 2 ** 30,
    });
    await client.storagePoolRefresh(pool);
    const expected = new XdrWriter();
    writePool(expected, pool);
    expect(sent(Procedure.StoragePoolGetInfo)).toBe(hex(expected));
    expected.writeUint(0);
    expect(sent(Procedure.StoragePoolRefresh)).toBe(hex(expected));
  });

  it('volume lookups, info, XML, create and delete use remote_nonnull_storage_vol', async () => {
    client = await connect();
    server.handler = (call) => {
      const w = new XdrWriter();
      switch (call.procedure) {
        case Procedure.StorageVolLookupByPath:
        case Procedure.StorageVolLookupByName:
        case Procedure.StorageVolCreateXml:
          writeVol(w, vol);
          break;
        case Procedure.StorageVolGetInfo:
          w.writeInt(0).writeUhyper(1n << 30n).writeUhyper(200n << 20n);
          break;
        case Procedure.StorageVolGetXmlDesc:
          w.writeString('<volume/>');
          break;
        default:
          return 'default';
      }
      call.reply(w.toBuffer());
    };
    expect(await client.storageVolLookupByPath(vol.key)).toEqual(vol);
    expect(await client.storageVolLookupByName(pool, vol.name)).toEqual(vol);
    expect(await client.storageVolGetInfo(vol)).toEqual({ type: 0, capacityBytes: 2 ** 30, allocationBytes: 200 * 2 ** 20 });
    expect(await client.storageVolGetXmlDesc(vol)).toBe('<volume/>');
    expect(await client.storageVolCreateXml(pool, '<volume><name>x</name></volume>', 0)).toEqual(vol);
    await client.storageVolDelete(vol);

    expect(sent(Procedure.StorageVolLookupByPath)).toBe(hex(new XdrWriter().writeString(vol.key)));
    const byName = new XdrWriter();
    writePool(byName, pool);
    byName.writeString(vol.name);
    expect(sent(Procedure.StorageVolLookupByName)).toBe(hex(byName));
    const create = new XdrWriter();
    writePool(create, pool);
    create.writeString('<volume><name>x</name></volume>').writeUint(0);
    expect(sent(Procedure.StorageVolCreateXml)).toBe(hex(create));
    const del = new XdrWriter();
    writeVol(del, vol);
    del.writeUint(0);
    expect(sent(Procedure.StorageVolDelete)).toBe(hex(del));
  });

  it('a missing volume is a LibvirtError with VIR_ERR_NO_STORAGE_VOL', async () => {
    client = await connect();
    server.handler = (call) => {
      if (call.procedure !== Procedure.StorageVolLookupByPath) return 'default';
      call.replyError({ code: ErrorCode.NoStorageVol, domain: 18, message: "Storage volume not found: no storage vol with matching path '/x'" });
    };
    const err = await client.storageVolLookupByPath('/x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LibvirtError);
    expect((err as LibvirtError).code).toBe(ErrorCode.NoStorageVol);
  });
});
