import type { Command } from 'commander';
import { DEFAULT_LAB, labDown, labUp } from '../../lab/lab';
import { labStatus } from '../../lab/status';
import { parseNumberOption } from '../options';

const say = (line: string) => process.stderr.write(`${line}\n`);

export function registerLabCommands(program: Command): void {
  const lab = program.command('lab').description('the embedded lab: Temporal, Placement, libvirt hosts, test guests');

  lab
    .command('up')
    .description('bring the lab up (idempotent): packages, Temporal dev server, Placement, libvirt hosts in network namespaces')
    .option('--hosts <n>', 'number of libvirt hosts (2 to 8)', String(DEFAULT_LAB.hosts))
    .option('--accel <accel>', 'auto | kvm | tcg', DEFAULT_LAB.accel)
    .option('--link-mbps <mbps>', 'cap each host link to this many Mbit/s (tc token bucket)')
    .action(async (o: { hosts: string; accel: string; linkMbps?: string }) => {
      if (!['auto', 'kvm', 'tcg'].includes(o.accel)) {
        throw new Error(`--accel must be one of auto, kvm, tcg; got '${o.accel}'`);
      }
      await labUp(
        {
          ...DEFAULT_LAB,
          hosts: parseNumberOption('--hosts', o.hosts),
          accel: o.accel as 'auto' | 'kvm' | 'tcg',
          linkMbps: o.linkMbps === undefined ? null : parseNumberOption('--link-mbps', o.linkMbps),
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
}
