/**
 * Exercises the libvirt RPC client against a real libvirtd. Creates, pauses, resumes and destroys
 * a throw-away TCG domain named "ferry-smoke-<pid>" and prints what it saw.
 *
 *   npx tsx activities/libvirt/dev/smoke.ts <socket path> [--kernel path/to/guest.elf] [--keepalive-wait]
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  CpuCompareResult,
  DomainXmlFlags,
  ErrorCode,
  isLibvirtError,
  JobStatsFlags,
  LibvirtClient,
  nameOf,
  type DomainRef,
} from '../index';

const args = process.argv.slice(2);
const socketPath = args.find((a) => !a.startsWith('--')) ?? '/var/run/libvirt/libvirt-sock';
const kernelArg = args.indexOf('--kernel');
const defaultKernel = path.resolve(__dirname, '../../../lab/guest/build/guest.elf');
const kernel = kernelArg >= 0 ? args[kernelArg + 1] : fs.existsSync(defaultKernel) ? defaultKernel : undefined;

let failures = 0;
function check(ok: boolean, what: string): void {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = process.hrtime.bigint();
  const v = await fn();
  return [v, Number(process.hrtime.bigint() - t0) / 1e6];
}

function percentile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function domainXml(name: string): string {
  const os = kernel
    ? `<os><type arch='x86_64' machine='pc'>hvm</type><kernel>${kernel}</kernel><cmdline>rate=1</cmdline></os>`
    : `<os><type arch='x86_64' machine='pc'>hvm</type></os>`;
  return `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  ${os}
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <serial type='null'/>
    <memballoon model='none'/>
  </devices>
</domain>`;
}

async function main(): Promise<void> {
  const [client, connectMs] = await timed(() =>
    LibvirtClient.connect({ uri: `qemu+unix:///system?socket=${socketPath}` }),
  );
  console.log(`connected in ${connectMs.toFixed(1)} ms; keepalive negotiated: ${client.keepaliveNegotiated}`);

  const hostname = await client.getHostname();
  const lib = await client.getLibVersion();
  const hv = await client.getVersion();
  console.log(`host ${hostname}, libvirt ${lib.text}, hypervisor ${hv.text}, uri ${await client.getUri()}`);
  check(hostname.length > 0 && lib.major >= 1 && hv.major >= 1, 'hostname and versions');

  const caps = await client.getCapabilities();
  check(caps.includes('<capabilities>'), `capabilities XML (${caps.length} bytes)`);
  const domcaps = await client.getDomainCapabilities({ virtType: 'qemu', arch: 'x86_64' });
  check(domcaps.includes('<domainCapabilities>'), `domain capabilities XML (${domcaps.length} bytes)`);
  const node = await client.nodeGetInfo();
  console.log('node info', node);
  check(node.cpus > 0 && node.memoryKiB > 0 && node.model.length > 0, 'node info decodes');
  const free = await client.nodeGetFreeMemory();
  check(free > 0, `free memory ${(free / 2 ** 20).toFixed(0)} MiB`);

  const cmp = await client.connectCompareHypervisorCpu(
    `<cpu mode='custom' match='exact'><model fallback='forbid'>qemu64</model></cpu>`,
    { virtType: 'qemu', arch: 'x86_64' },
  );
  check(cmp >= 0, `compare hypervisor CPU (qemu64 under TCG): ${nameOf(CpuCompareResult, cmp)}`);

  try {
    await client.lookupDomainByName('ferry-no-such-domain');
    check(false, 'lookup of a missing domain fails');
  } catch (err) {
    check(isLibvirtError(err, ErrorCode.NoDomain), `missing domain -> LibvirtError ${(err as Error).message}`);
  }

  const events: string[] = [];
  const name = `ferry-smoke-${process.pid}`;
  const lifecycle = await client.onLifecycle((e) => {
    if (e.dom.name === name) events.push(`${e.eventName}/${e.detailName}`);
  });
  await client.onJobCompleted((e) => console.log('job-completed event', e.dom.name, e.stats));

  const before = await client.listAllDomains();
  let d: DomainRef = await client.domainDefineXml(domainXml(name));
  check(d.name === name && d.id === -1, `defined ${d.name} ${d.uuid}`);
  check((await client.lookupDomainByUuid(d.uuid)).name === name, 'lookup by UUID');
  check((await client.listAllDomains()).length === before.length + 1, 'listAllDomains sees it');
  d = await client.domainCreate(d);
  check(d.id > 0, `started with id ${d.id}${kernel ? ` (kernel ${kernel})` : ' (no kernel: sits in the BIOS)'}`);
  const st = await client.domainGetState(d);
  check(st.stateName === 'running', `state ${st.stateName}/${st.reasonName}`);

  const xml = await client.domainGetXmlDesc(d, DomainXmlFlags.Migratable);
  check(xml.includes(`<name>${name}</name>`) && xml.includes(d.uuid), `migratable XML (${xml.length} bytes)`);

  await client.domainSuspend(d);
  const paused = await client.domainGetState(d);
  check(paused.stateName === 'paused' && paused.reasonName === 'User', `after suspend: ${paused.stateName}/${paused.reasonName}`);
  await client.domainResume(d);
  const resumed = await client.domainGetState(d);
  check(resumed.stateName === 'running' && resumed.reasonName === 'Unpaused', `after resume: ${resumed.stateName}/${resumed.reasonName}`);

  const job = await client.domainGetJobStats(d);
  check(job.typeName === 'None', `job stats with no job: type ${job.typeName}, params ${JSON.stringify(job.raw)}`);
  const samples: number[] = [];
  for (let i = 0; i < 100; i++) samples.push((await timed(() => client.domainGetJobStats(d)))[1]);
  console.log(`job stats latency over 100 calls: median ${percentile(samples, 0.5).toFixed(2)} ms, p95 ${percentile(samples, 0.95).toFixed(2)} ms, max ${Math.max(...samples).toFixed(2)} ms`);
  const [parallel, parMs] = await timed(() => Promise.all(Array.from({ length: 20 }, () => client.domainGetState(d))));
  check(parallel.every((s) => s.stateName === 'running'), `20 concurrent getState calls in ${parMs.toFixed(1)} ms`);
  try {
    const completed = await client.domainGetJobStats(d, JobStatsFlags.Completed);
    console.log(`completed job stats with no job: type ${completed.typeName}`);
  } catch (err) {
    console.log(`completed job stats with no job -> ${(err as Error).message}`);
  }

  console.log(`max downtime ${await client.domainMigrateGetMaxDowntime(d)} ms`);
  console.log(`max speed ${await client.domainMigrateGetMaxSpeed(d)} MiB/s`);
  try {
    await client.domainAbortJob(d);
    check(false, 'abort with no job fails');
  } catch (err) {
    check(isLibvirtError(err), `abort with no job -> ${(err as Error).name} code ${(err as { codeName?: string }).codeName}: ${(err as Error).message}`);
  }
  try {
    await client.domainMigrateStartPostCopy(d);
    check(false, 'start post-copy with no migration fails');
  } catch (err) {
    check(isLibvirtError(err), `start post-copy with no migration -> ${(err as { codeName?: string }).codeName}: ${(err as Error).message}`);
  }

  await client.domainDestroy(d);
  check((await client.domainGetState(d)).stateName === 'shutoff', 'destroyed -> shutoff');
  await client.domainUndefine(d);
  try {
    await client.lookupDomainByName(name);
    check(false, 'undefined domain is gone');
  } catch (err) {
    check(isLibvirtError(err, ErrorCode.NoDomain), 'undefined domain is gone');
  }

  await until('lifecycle events', () => events.length >= 6).catch(() => undefined);
  console.log('lifecycle events:', events.join(', '));
  const expected = ['Defined/Added', 'Started/Booted', 'Suspended/Paused', 'Resumed/Unpaused', 'Stopped/Destroyed', 'Undefined/Removed'];
  check(expected.every((e) => events.includes(e)), `lifecycle events include ${expected.join(', ')}`);
  await lifecycle.unsubscribe();

  if (args.includes('--keepalive-wait')) {
    console.log('idling 12 s to watch keepalive...');
    await new Promise((r) => setTimeout(r, 12_000));
    console.log('keepalive stats', client.connection?.stats);
    check(client.isConnected, 'still connected after idling');
  }

  // Our own pings: a client that pings after 1 s of silence must get PONGs back from the daemon.
  const pinger = await LibvirtClient.connect({ uri: `qemu+unix:///system?socket=${socketPath}`, keepalive: { intervalMs: 1000, count: 3 } });
  await new Promise((r) => setTimeout(r, 3500));
  const ka = pinger.connection?.stats;
  check((ka?.pongsReceived ?? 0) >= 1 && pinger.isConnected, `daemon answers our keepalive PINGs (${JSON.stringify(ka)})`);
  await pinger.close();

  await client.close();
  console.log(failures === 0 ? 'SMOKE OK' : `SMOKE FAILED (${failures})`);
  process.exitCode = failures === 0 ? 0 : 1;
}

main().catch((err) => {
  console.error('smoke test crashed:', err);
  process.exitCode = 2;
});
