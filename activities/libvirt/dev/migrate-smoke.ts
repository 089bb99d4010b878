/**
 * A real peer-to-peer migration through the RPC client, between two libvirtds reachable from
 * here by unix socket. Creates a throw-away guest on the source, migrates it, cleans up.
 *
 *   npx tsx activities/libvirt/dev/migrate-smoke.ts <src socket> <dst socket> <dconnuri>
 *       [--postcopy] [--abort] [--rate <MiB/s>|max] [--mem <MiB>] [--bw <MiB/s>] [--kernel path/to/guest.elf]
 *
 * <dconnuri> is the destination as the SOURCE daemon reaches it, e.g. qemu+tcp://host-b/system.
 */
import path from 'node:path';
import {
  AbortJobFlags,
  buildMigrationParams,
  DomainXmlFlags,
  ErrorCode,
  flagNames,
  isLibvirtError,
  LibvirtClient,
  MigrateFlags,
  MigrateMaxSpeedFlags,
  type DomainRef,
  type JobStats,
} from '../index';

const args = process.argv.slice(2);
const positional = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.match(/^--(rate|mem|kernel)$/));
const [srcSock, dstSock, dconnuri] = positional;
const opt = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : dflt);
const postcopy = args.includes('--postcopy');
const abort = args.includes('--abort');
const rate = opt('--rate', postcopy ? 'max' : '5');
const memMiB = Number(opt('--mem', '128'));
const kernel = opt('--kernel', path.resolve(__dirname, '../../../lab/guest/build/guest.elf'));

const t0 = Date.now();
const log = (...xs: unknown[]) => console.log(`[${((Date.now() - t0) / 1000).toFixed(2)}s]`, ...xs);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  if (!srcSock || !dstSock || !dconnuri) throw new Error('usage: migrate-smoke.ts <src socket> <dst socket> <dconnuri> [...]');
  const src = await LibvirtClient.connect({ uri: `qemu+unix:///system?socket=${srcSock}` });
  const dst = await LibvirtClient.connect({ uri: `qemu+unix:///system?socket=${dstSock}` });
  log(`source ${await src.getHostname()}, destination ${await dst.getHostname()}`);

  const name = `ferry-mig-${process.pid}`;
  const iterations: number[] = [];
  let completed: JobStats | undefined;
  const srcLifecycle: string[] = [];
  const dstLifecycle: string[] = [];
  await src.onLifecycle((e) => e.dom.name === name && srcLifecycle.push(`${e.eventName}/${e.detailName}`));
  await dst.onLifecycle((e) => e.dom.name === name && dstLifecycle.push(`${e.eventName}/${e.detailName}`));
  await src.onMigrationIteration((e) => e.dom.name === name && iterations.push(e.iteration));
  await src.onJobCompleted((e) => {
    if (e.dom.name === name) completed = e.stats;
  });

  let dom: DomainRef = await src.domainDefineXml(`<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>${memMiB}</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>${kernel}</kernel><cmdline>rate=${rate}</cmdline></os>
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator><serial type='null'/><memballoon model='none'/></devices>
</domain>`);
  dom = await src.domainCreate(dom);
  log(`started ${name} (${memMiB} MiB, rate=${rate}) id ${dom.id}; letting it boot`);
  await sleep(2500);

  const flags = MigrateFlags.Live | MigrateFlags.Peer2Peer | MigrateFlags.PersistDest | MigrateFlags.UndefineSource | (postcopy ? MigrateFlags.Postcopy : 0);
  const destXml = await src.domainGetXmlDesc(dom, DomainXmlFlags.Migratable);
  const params = buildMigrationParams({ destXml, persistXml: destXml, bandwidthMiBs: Number(opt('--bw', postcopy ? '50' : '200')) });
  log(`MigratePerform3Params -> ${dconnuri} flags ${flagNames(MigrateFlags, flags).join('|')}`);
  const started = Date.now();
  const perform = src.domainMigratePerform3Params(dom, { dconnuri, params, flags }).then(
    (cookie) => ({ ok: true as const, cookie, ms: Date.now() - started }),
    (err: unknown) => ({ ok: false as const, err: err as Error, ms: Date.now() - started }),
  );
  let done: Awaited<typeof perform> | undefined;
  void perform.then((r) => (done = r));

  const latencies: number[] = [];
  let switched = false;
  let tuned = false;
  while (!done) {
    const q0 = process.hrtime.bigint();
    const stats = await src.domainGetJobStats(dom).catch((e: Error) => e);
    latencies.push(Number(process.hrtime.bigint() - q0) / 1e6);
    if (!(stats instanceof Error) && stats.type !== 0) {
      log(`job ${stats.typeName} it=${stats.memoryIteration} elapsed=${stats.timeElapsedMs}ms remaining=${stats.dataRemaining} total=${stats.dataTotal} bps=${stats.memoryBps} dirty=${stats.memoryDirtyRate} pc_req=${stats.memoryPostcopyRequests ?? '-'}`);
      if (!tuned && stats.dataTotal) {
        tuned = true;
        await src.domainMigrateSetMaxDowntime(dom, 500);
        await src.domainMigrateSetMaxSpeed(dom, 900, MigrateMaxSpeedFlags.Postcopy).catch((e: Error) => log('set postcopy speed:', e.message));
        log(`max downtime now ${await src.domainMigrateGetMaxDowntime(dom)} ms; speed ${await src.domainMigrateGetMaxSpeed(dom)} MiB/s; postcopy speed ${await src.domainMigrateGetMaxSpeed(dom, MigrateMaxSpeedFlags.Postcopy).catch((e: Error) => e.message)}`);
      }
      if (abort && (stats.memoryIteration ?? 0) >= 1) {
        log('aborting the job');
        await src.domainAbortJob(dom);
        break;
      }
      if (postcopy && !switched && (iterations.length > 0 || (stats.memoryIteration ?? 0) >= 2)) {
        switched = true;
        log('MigrateStartPostCopy');
        await src.domainMigrateStartPostCopy(dom).catch((e: Error) => log('start post-copy failed:', e.message));
      }
    }
    await sleep(150);
  }
  const result = await perform;
  if (result.ok) log(`perform returned after ${result.ms} ms, cookie ${result.cookie.length} bytes`);
  else log(`perform failed after ${result.ms} ms: ${result.err.name} ${(result.err as { codeName?: string }).codeName ?? ''} ${result.err.message}`);
  const sorted = [...latencies].sort((a, b) => a - b);
  log(`job stats during the migration: ${latencies.length} calls, median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(2)} ms, max ${sorted[sorted.length - 1]?.toFixed(2)} ms`);
  await sleep(500);
  log('iteration events', iterations.join(','));
  log('source lifecycle', srcLifecycle.join(', '));
  log('destination lifecycle', dstLifecycle.join(', '));
  if (completed) log('job-completed event stats', JSON.stringify({ ...completed, raw: undefined }));

  const srcState = await src.lookupDomainByName(name).then((d) => src.domainGetState(d)).catch((e: unknown) => (isLibvirtError(e, ErrorCode.NoDomain) ? 'gone' : e));
  const dstDom = await dst.lookupDomainByName(name).catch(() => null);
  const dstState = dstDom ? await dst.domainGetState(dstDom) : 'gone';
  log('source state', srcState, 'destination state', dstState);

  // Clean up wherever the guest ended.
  for (const c of [src, dst]) {
    const d = await c.lookupDomainByName(name).catch(() => null);
    if (!d) continue;
    await c.domainAbortJobFlags(d, AbortJobFlags.Postcopy).catch(() => undefined);
    await c.domainDestroy(d).catch(() => undefined);
    await c.domainUndefine(d).catch(() => undefined);
  }
  await src.close();
  await dst.close();
}

main().catch((err) => {
  console.error('migration smoke crashed:', err);
  process.exitCode = 2;
});
