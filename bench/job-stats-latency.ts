/**
 * Job-stats latency on one running migration, measured side by side in one run:
 *   - ferry's TypeScript client on its open connection (what the watch activity does),
 *   - ferry's TypeScript client opening a fresh connection per call (like a CLI would),
 *   - `virsh domjobinfo` (a process and a connection per call: what scripts around libvirt do).
 * The three are interleaved round by round so machine noise hits them alike; the ratios are the result.
 *
 *   npx tsx bench/job-stats-latency.ts [--rounds 60]
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { LibvirtClient } from '../activities/libvirt';
import { DEFAULT_LAB, labUp } from '../lab/lab';
import { findDomain } from '../lab/host-clients';
import { hostUri } from '../lab/hosts';
import { setLinkCap } from '../lab/network';
import { rawMigrate } from '../lab/raw-migration';
import { createLabVm, deleteLabVm } from '../lab/vms';
import { summarize, timeMs } from './stats';

const execFileAsync = promisify(execFile);
const VM = 'bench-jobstats';

async function main(): Promise<void> {
  const roundsArg = process.argv.indexOf('--rounds');
  const rounds = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 60;
  // The lab as it is (host count, accelerator), or the default one if there is none.
  const lab = await labUp(DEFAULT_LAB);
  const [src, dst] = [lab.hosts[0]!.name, lab.hosts[1]!.name];
  await deleteLabVm(VM);
  await createLabVm({ name: VM, host: src, memoryMiB: 256, rateMiBps: 'max' });
  await setLinkCap(src, 200); // the guest dirties faster than the link: the migration keeps running
  const uri = hostUri(src);
  const persistent = await LibvirtClient.connect({ uri });
  const results = { persistent: [] as number[], fresh: [] as number[], virsh: [] as number[] };
  let measured = false;
  try {
    await rawMigrate({
      vm: VM,
      to: dst,
      pollMs: 1000,
      onJobRunning: ({ abort }) => {
        void (async () => {
          const dom = (await findDomain(persistent, VM))!.dom;
          for (let i = 0; i < rounds; i++) {
            results.persistent.push(await timeMs(() => persistent.domainGetJobStats(dom)));
            results.fresh.push(await timeMs(async () => {
              const c = await LibvirtClient.connect({ uri });
              const d = await c.lookupDomainByName(VM);
              await c.domainGetJobStats(d);
              await c.close();
            }));
            results.virsh.push(await timeMs(() => execFileAsync('virsh', ['-c', uri, 'domjobinfo', VM])));
          }
          measured = true;
          await abort();
        })().catch(async (err) => {
          console.error('benchmark failed:', err);
          await abort();
        });
      },
    });
  } finally {
    await persistent.close();
    await setLinkCap(src, null);
    await deleteLabVm(VM);
  }
  if (!measured) throw new Error('the migration ended before the benchmark could measure');
  const p = summarize(results.persistent);
  const f = summarize(results.fresh);
  const v = summarize(results.virsh);
  const row = (name: string, s: ReturnType<typeof summarize>) =>
    `${name.padEnd(38)} median ${s.median.toFixed(2).padStart(7)} ms   p95 ${s.p95.toFixed(2).padStart(7)} ms   (n=${s.n})`;
  console.log(`job stats during one running migration (${src} -> ${dst}, 256 MiB guest dirtying at full speed, link 200 Mbit/s)`);
  console.log(row('ferry client, open connection', p));
  console.log(row('ferry client, new connection per call', f));
  console.log(row('virsh domjobinfo (process per call)', v));
  console.log(`ratio virsh / ferry (open connection):  ${(v.median / p.median).toFixed(1)}x`);
  console.log(`ratio virsh / ferry (new connection):   ${(v.median / f.median).toFixed(1)}x`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
