import type { Command } from 'commander';
import { DEFAULT_LAB, labDown, labUp } from '../../lab/lab';
import { labStatus } from '../../lab/status';
import { parseNumberOption } from '../options';
import { renderBar } from '../progress-bar';
import { rawMigrate } from '../../lab/raw-migration';
import { createLabVm, deleteLabVm, resetVmStall, vmStall } from '../../lab/vms';
import { dirtyBytesPerSecond } from '../../model/observation';

const say = (line: string) => process.stderr.write(`${line}\n`);

export function registerLabCommands(program: Command): void {
  const lab = program.command('lab').description('the embedded lab: Temporal, Placement, libvirt hosts, test guests');

  lab
    .command('up')
    .description('bring the lab up (idempotent): packages, Temporal dev server, Placement, libvirt hosts in network namespaces')
    .option('--hosts <n>', 'number of libvirt hosts, 2 to 8 (default: as the lab has, else 2)')
    .option('--accel <accel>', 'auto | kvm | tcg (default: as the lab has, else auto)')
    .option('--link-mbps <mbps>', "cap each host link to this many Mbit/s (tc token bucket); 'none' removes the caps")
    .action(async (o: { hosts?: string; accel?: string; linkMbps?: string }) => {
      if (o.accel !== undefined && !['auto', 'kvm', 'tcg'].includes(o.accel)) {
        throw new Error(`--accel must be one of auto, kvm, tcg; got '${o.accel}'`);
      }
      await labUp(
        {
          ...DEFAULT_LAB,
          hosts: o.hosts === undefined ? undefined : parseNumberOption('--hosts', o.hosts),
          accel: o.accel as 'auto' | 'kvm' | 'tcg' | undefined,
          linkMbps: o.linkMbps === undefined ? undefined : o.linkMbps === 'none' ? null : parseNumberOption('--link-mbps', o.linkMbps),
        },
        say,
      );
      say('lab is up');
    });

  lab
    .command('down')
    .description('stop everything the lab started (by PID) and remove its namespaces')
    .action(async () => {
      await labDown(say);
      say('lab is down');
    });

  lab
    .command('status')
    .description('what runs in the lab')
    .option('--json', 'one JSON object')
    .action(async (o: { json?: boolean }) => {
      const status = await labStatus();
      if (o.json) {
        process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
        return;
      }
      for (const h of status.hosts) process.stdout.write(`${h.name}\t${h.up ? 'up' : 'down'}\t${h.address}\t${h.uri}\n`);
      for (const v of status.vms) process.stdout.write(`${v.name}\t${v.host ?? '-'}\t${v.state}\theartbeat ${v.heartbeat ?? '-'}\n`);
    });

  const vm = lab.command('vm').description('test guests on the lab hosts');
  vm.command('create <name>')
    .description('define and start a test guest, wait for its heartbeat, allocate it in Placement')
    .requiredOption('--host <host>', 'lab host to start it on')
    .option('--mem <MiB>', 'guest memory in MiB', '256')
    .option('--rate <MiB/s>', "memory the guest dirties per second (0 = idle, 'max' = as fast as it can)", '0')
    .option('--wss <MiB>', 'working-set size the guest dirties, in MiB (default: most of its memory)')
    .option('--vcpus <n>', 'virtual CPUs', '1')
    .action(async (name: string, o: { host: string; mem: string; rate: string; wss?: string; vcpus: string }) => {
      const created = await createLabVm({
        name,
        host: o.host,
        memoryMiB: parseNumberOption('--mem', o.mem),
        rateMiBps: o.rate === 'max' ? 'max' : parseNumberOption('--rate', o.rate),
        wssMiB: o.wss === undefined ? undefined : parseNumberOption('--wss', o.wss),
        vcpus: parseNumberOption('--vcpus', o.vcpus),
      });
      say(`${created.name} (${created.uuid}) runs on ${o.host}`);
    });
  vm.command('stall <name>')
    .description('the longest stall the guest felt since the last reset (µs)')
    .option('--reset', 'reset the stall meter now')
    .option('--json', 'one JSON object')
    .action(async (name: string, o: { reset?: boolean; json?: boolean }) => {
      if (o.reset) {
        await resetVmStall(name);
        say(`stall meter of ${name} reset`);
        return;
      }
      const r = await vmStall(name);
      if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else process.stdout.write(`felt ${(r.feltUs / 1000).toFixed(1)} ms (longest gap ${(r.maxGapUs / 1000).toFixed(1)} ms, stopped ${(r.stoppedUs / 1000).toFixed(1)} ms)${r.settled ? '' : ' (not settled yet)'}\n`);
    });
  vm.command('delete <name>')
    .description('destroy and undefine the guest on every host and drop its Placement allocation')
    .action(async (name: string) => {
      await deleteLabVm(name);
      say(`${name} deleted`);
    });

  lab
    .command('migrate <vm>')
    .description('a raw peer-to-peer live migration through ferry\'s libvirt client (no workflow), with a progress bar')
    .requiredOption('--to <host>', 'destination lab host')
    .option('--postcopy', 'switch to post-copy after the first pre-copy pass')
    .option('--bandwidth <MiB/s>', 'migration bandwidth cap in MiB/s')
    .option('--json', 'print the outcome as one JSON object')
    .action(async (name: string, o: { to: string; postcopy?: boolean; bandwidth?: string; json?: boolean }) => {
      const tty = process.stderr.isTTY === true;
      let lastLine = 0;
      const result = await rawMigrate({
        vm: name,
        to: o.to,
        postcopyAfterFirstPass: o.postcopy === true,
        bandwidthMiBps: o.bandwidth === undefined ? undefined : parseNumberOption('--bandwidth', o.bandwidth),
        onSample: ({ stats, view, phase }) => {
          const line = renderBar({
            phase,
            view,
            iteration: stats.memoryIteration ?? null,
            dirtyBps: dirtyBytesPerSecond(stats),
            bandwidthBps: stats.memoryBps ?? null,
          });
          if (tty) process.stderr.write(`\r\x1b[2K${line}`);
          else if (Date.now() - lastLine >= 2000) {
            lastLine = Date.now();
            process.stderr.write(`${line}\n`);
          }
        },
      });
      if (tty) process.stderr.write('\n');
      if (o.json) process.stdout.write(`${JSON.stringify({ ...result, completed: undefined })}\n`);
      else {
        process.stdout.write(
          `${result.outcome}: ${result.vm} ${result.source} -> ${result.destination} in ${result.mode}, ` +
            `${(result.totalMs / 1000).toFixed(1)} s, downtime ${result.downtimeMs ?? '-'} ms, ` +
            `${result.bytes === null ? '-' : (result.bytes / 1048576).toFixed(0)} MiB sent, iterations ${result.iterations.length}` +
            `${result.error ? ` (${result.error})` : ''}\n` +
            `  source: ${result.hosts.source}; destination: ${result.hosts.destination}\n`,
        );
      }
      if (result.outcome !== 'completed') process.exitCode = 3;
    });
}
