import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DomainXmlFlags, ErrorCode, LibvirtClient, LibvirtError, type DomainLifecycleEvent,
} from '../../activities/libvirt';
import { hostUri } from '../../lab/hosts';
import { sleep, waitFor } from '../../lab/proc';
import type { LabState } from '../../lab/state';
import { createLabVm, deleteLabVm } from '../../lab/vms';
import { ensureTestLab } from './lab';

/** ferry's libvirt RPC client against a real lab daemon: the calls the mission needs. */
let lab: LabState;
let client: LibvirtClient;
const VM = 'it-client';

beforeAll(async () => {
  lab = await ensureTestLab();
  await deleteLabVm(VM);
  await createLabVm({ name: VM, host: lab.hosts[0]!.name, memoryMiB: 64, rateMiBps: 0 });
  client = await LibvirtClient.connect({ uri: hostUri(lab.hosts[0]!.name) });
});
afterAll(async () => {
  await client?.close();
  await deleteLabVm(VM);
});

describe('libvirt RPC client on a lab host', () => {
  it('reads the host: name, versions, node info, capabilities with the configured host UUID', async () => {
    const host = lab.hosts[0]!;
    expect(await client.getHostname()).toBe(host.name);
    const lib = await client.getLibVersion();
    expect(lib.major).toBeGreaterThanOrEqual(9);
    expect((await client.getVersion()).major).toBeGreaterThanOrEqual(7); // QEMU
    const node = await client.nodeGetInfo();
    expect(node.cpus).toBeGreaterThan(0);
    expect(await client.nodeGetFreeMemory()).toBeGreaterThan(0);
    expect(await client.getCapabilities()).toContain(`<uuid>${host.uuid}</uuid>`);
    expect(await client.getDomainCapabilities({ virtType: 'qemu', arch: 'x86_64' })).toContain('<domainCapabilities>');
  });

  it('looks domains up by name and UUID, and reports a missing one with libvirt\'s NoDomain code', async () => {
    const byName = await client.lookupDomainByName(VM);
    const byUuid = await client.lookupDomainByUuid(byName.uuid);
    expect(byUuid.name).toBe(VM);
    const err = await client.lookupDomainByName('no-such-vm').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LibvirtError);
    expect((err as LibvirtError).code).toBe(ErrorCode.NoDomain);
  });

  it('suspends and resumes with lifecycle events and state reasons, and gives migratable XML', async () => {
    const dom = await client.lookupDomainByName(VM);
    const events: DomainLifecycleEvent[] = [];
    const sub = await client.onLifecycle((e) => events.push(e), dom);
    await client.domainSuspend(dom);
    expect((await client.domainGetState(dom)).stateName).toBe('paused');
    await client.domainResume(dom);
    expect((await client.domainGetState(dom)).stateName).toBe('running');
    await waitFor('suspend and resume events', () => events.length >= 2, { timeoutMs: 5_000 });
    await sub.unsubscribe();
    expect(events.map((e) => e.eventName)).toEqual(['Suspended', 'Resumed']);
    const xml = await client.domainGetXmlDesc(dom, DomainXmlFlags.Migratable);
    expect(xml).toContain(`<name>${VM}</name>`);
    const jobs = await client.domainGetJobStats(dom);
    expect(jobs.typeName).toBe('None');
  });

  it('compares the guest CPU with the host (the pre-check the workflow runs)', async () => {
    const result = await client.connectCompareHypervisorCpu(
      "<cpu mode='custom' match='exact'><model>qemu64</model></cpu>",
      { emulator: '/usr/bin/qemu-system-x86_64', arch: 'x86_64', machine: 'pc', virtType: 'qemu' },
    );
    expect(result).toBeGreaterThan(0); // identical or superset
  });

  it('answers many calls multiplexed on one connection', async () => {
    const dom = await client.lookupDomainByName(VM);
    const t0 = Date.now();
    const states = await Promise.all(Array.from({ length: 50 }, () => client.domainGetState(dom)));
    expect(states.every((s) => s.stateName === 'running')).toBe(true);
    expect(Date.now() - t0).toBeLessThan(5_000);
    await sleep(0);
  });
});
