import { latestHeartbeat, readGuestSerial } from '../../../lab/guest/serial';
import { hostPath } from '../../../lab/hosts';
import { waitFor } from '../../../lab/proc';

/** The guest's heartbeat as written by the given host's QEMU only (each host logs its own copy). */
export async function heartbeatOn(host: string, vm: string): Promise<number | undefined> {
  const serial = await readGuestSerial(hostPath(host, `/var/log/libvirt/qemu/${vm}-serial.log`), { missingOk: true });
  return latestHeartbeat(serial)?.seq;
}

/** The guest runs on that host: its heartbeat, as that host logs it, keeps advancing. */
export async function expectAliveOn(host: string, vm: string): Promise<void> {
  const first = await waitFor(`a heartbeat of ${vm} on ${host}`, () => heartbeatOn(host, vm), { timeoutMs: 10_000 });
  await waitFor(`${vm}'s heartbeat to advance on ${host}`, async () => ((await heartbeatOn(host, vm)) ?? 0) > first, {
    timeoutMs: 10_000,
  });
}
