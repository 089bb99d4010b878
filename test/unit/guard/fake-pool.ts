/**
 * A host's dir pool at /srv/local on a fake libvirtd (test/unit/watch/fake-hosts.ts): the storage
 * procedures the block migration's roll-back and finish use, over a set of file names. Deletes are
 * recorded by name.
 */
import { Procedure } from '../../../activities/libvirt';
import { readNonnullString } from '../../../activities/libvirt/remote-types';
import { readVol, writePool, writeVol } from '../../../activities/libvirt/storage';
import { XdrReader, XdrWriter } from '../../../activities/libvirt/xdr';
import type { FakeHypervisor } from '../watch/fake-hosts';

export function withLocalPool(host: FakeHypervisor, files: Set<string>): string[] {
  const deleted: string[] = [];
  const pool = { name: 'local', uuid: '0f0e0d0c-0b0a-4908-8706-050403020100' };
  const next = host.server.handler;
  const vol = (name: string) => ({ pool: 'local', name, key: `/srv/local/${name}` });
  host.server.handler = (call) => {
    const w = new XdrWriter();
    const notFound = (name: string) => call.replyError({ code: 50, domain: 18, message: `Storage volume not found: '${name}'` });
    switch (call.procedure) {
      case Procedure.StoragePoolLookupByTargetPath:
        writePool(w, pool);
        break;
      case Procedure.StoragePoolRefresh:
        break;
      case Procedure.StorageVolLookupByName: {
        const r = new XdrReader(call.args);
        readNonnullString(r);
        r.readFixedOpaque(16);
        const name = readNonnullString(r);
        if (!files.has(name)) return notFound(name);
        writeVol(w, vol(name));
        break;
      }
      case Procedure.StorageVolLookupByPath: {
        const path = readNonnullString(new XdrReader(call.args));
        const name = path.slice(path.lastIndexOf('/') + 1);
        if (!path.startsWith('/srv/local/') || !files.has(name)) return notFound(path);
        writeVol(w, vol(name));
        break;
      }
      case Procedure.StorageVolDelete: {
        const v = readVol(new XdrReader(call.args));
        files.delete(v.name);
        deleted.push(v.name);
        break;
      }
      default:
        return next(call);
    }
    call.reply(w.toBuffer());
  };
  return deleted;
}
