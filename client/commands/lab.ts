/**
 * `ferry lab …`: the embedded lab. The one file of client/ that may import lab/ (registered by
 * the composition root, entry/ferry.ts); lab code loads only when a lab command runs.
 */
import type { Command } from 'commander';
import { FerryError, UsageError } from '../errors';
import { EXIT } from '../exit-codes';
import { parseChoiceOption, parseNumberOption } from '../options';
import { outputFormat, printJson, printText, say, withOutputOptions } from '../output';
import { renderBar } from '../progress-bar';

interface OutputOpts {
  output?: string;
  json?: boolean;
}

/**
 * A lab command: its options are checked first (exit 64); a lab that cannot do what was asked
 * (a daemon that does not start, a host that is not there) is exit 69, its message as the lab said it.
 */
function labAction<A extends unknown[]>(fn: (...args: A) => Promise<void>) {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      if (err instanceof FerryError) throw err;
      throw new FerryError(EXIT.unavailable, `the lab: ${(err as Error).message}`);
    }
  };
}

export function registerLabCommands(program: Command): void {
  const lab = program.command('lab').description('the embedded lab: Temporal, Placement, libvirt hosts, test guests');
  registerLifecycleCommands(lab);
  registerFaultCommands(lab.command('fault').description("inflict one fault on the lab, or heal it (each idempotent; 'lab up' heals them all)"));
  registerVmCommands(lab.command('vm').description('test guests of the lab'));
  registerRawMigrateCommand(lab);
}

/** `lab up`, `lab down`, `lab status`. */
function registerLifecycleCommands(lab: Command): void {
  withOutputOptions(
    lab
      .command('up')
      .description('bring the lab up (idempotent): packages, Temporal dev server, Placement, libvirt hosts in network namespaces')
      .option('--hosts <n>', 'number of libvirt hosts, 2 to 8 (default: as the lab has, else 2)')
      .option('--accel <accel>', 'auto | kvm | tcg (default: as the lab has, else auto)')
      .option('--link-mbps <mbps>', "cap each host link to this many Mbit/s (tc token bucket); 'none' removes the caps"),
  ).action(async (o: OutputOpts & { hosts?: string; accel?: string; linkMbps?: string }) => {
    const format = outputFormat(o);
    const options = {
      hosts: o.hosts === undefined ? undefined : parseNumberOption('--hosts', o.hosts),
      accel: o.accel === undefined ? undefined : parseChoiceOption('--accel', o.accel, ['auto', 'kvm', 'tcg'] as const),
      linkMbps: o.linkMbps === undefined ? undefined : o.linkMbps === 'none' ? null : parseNumberOption('--link-mbps', o.linkMbps),
    };
    await labAction(async () => {
      const { DEFAULT_LAB, labUp } = require('../../lab/lab') as typeof import('../../lab/lab');
      const state = await labUp({ ...DEFAULT_LAB, ...options }, say);
      if (format === 'json') printJson(state);
      say('lab is up');
    })();
  });

  withOutputOptions(lab.command('down').description('stop everything the lab started (by PID) and remove its namespaces')).action(
    labAction(async (o: OutputOpts) => {
      outputFormat(o);
      const { labDown } = require('../../lab/lab') as typeof import('../../lab/lab');
      await labDown(say);
      say('lab is down');
    }),
  );

  withOutputOptions(lab.command('status').description('what runs in the lab: hosts (name, up, address, URI), then VMs (name, host, state, heartbeat)')).action(
    async (o: OutputOpts) => {
      const format = outputFormat(o);
      await labAction(async () => {
        const { labStatus } = require('../../lab/status') as typeof import('../../lab/status');
        const status = await labStatus();
        if (format === 'json') {
          printJson(status);
          return;
        }
        printText(`temporal\t${status.temporal ? `up\t${status.temporal.address}\t${status.temporal.ui}` : 'down'}`);
        printText(`placement\t${status.placement ? `up\t${status.placement.url}` : 'down'}`);
        for (const h of status.hosts) {
          const daemons = `libvirtd ${h.libvirtd ?? 'down'}, virtlogd ${h.virtlogd ?? 'down'}, link ${h.link}${h.cutFrom.length > 0 ? ` (cut from ${h.cutFrom.join(', ')})` : ''}`;
          printText(`${h.name}\t${h.up ? 'up' : 'down'}\t${h.address}\t${h.uri}\t${daemons}`);
        }
        for (const v of status.vms) printText(`${v.name}\t${v.host ?? '-'}\t${v.state}\theartbeat ${v.heartbeat ?? '-'}`);
        for (const d of status.down) printText(`DOWN\t${d.what}\t${d.detail}${d.since ? `\tsince ${d.since}` : ''}`);
      })();
    },
  );

}

/**
 * `lab fault kill|restart|cut|restore|stop|start|list`: the fault matrix (lab/faults.ts). Each
 * prints what it did and when (one line, or the event as JSON); doing it twice changes nothing.
 */
function registerFaultCommands(fault: Command): void {
  type FaultsModule = typeof import('../../lab/faults');
  const faults = () => require('../../lab/faults') as FaultsModule;
  const report = (format: 'table' | 'json', e: import('../../lab/faults').FaultEvent) => {
    if (format === 'json') printJson(e);
    else printText(`${e.at}\t${e.action}${e.changed ? '' : ' (no change)'}\t${e.what}: ${e.detail}`);
  };
  const daemonArg = (raw: string) => parseChoiceOption('<daemon>', raw, ['libvirtd', 'virtlogd'] as const);
  const serviceArg = (raw: string) => parseChoiceOption('<service>', raw, ['placement', 'temporal'] as const);

  withOutputOptions(fault.command('kill <host> <daemon>').description("SIGKILL one daemon of one host (libvirtd | virtlogd); its guests keep running")).action(
    async (host: string, daemon: string, o: OutputOpts) => {
      const format = outputFormat(o);
      const d = daemonArg(daemon);
      await labAction(async () => report(format, await faults().killDaemon(host, d)))();
    },
  );
  withOutputOptions(
    fault.command('restart <host> <daemon>').description("start that daemon alone again, in the namespaces of what still runs on the host (a restarted libvirtd reconnects to the guests)"),
  ).action(async (host: string, daemon: string, o: OutputOpts) => {
    const format = outputFormat(o);
    const d = daemonArg(daemon);
    await labAction(async () => report(format, await faults().restartDaemon(host, d)))();
  });
  withOutputOptions(
    fault.command('cut <host>').description("cut the host's link (a pulled cable), or with --peer only the path between the two hosts").option('--peer <host>', 'cut only between <host> and this host'),
  ).action(async (host: string, o: OutputOpts & { peer?: string }) => {
    const format = outputFormat(o);
    await labAction(async () => report(format, await faults().cutLink(host, o.peer ?? null)))();
  });
  withOutputOptions(
    fault.command('restore <host>').description('restore what `cut` cut (same arguments)').option('--peer <host>', 'restore only the path between <host> and this host'),
  ).action(async (host: string, o: OutputOpts & { peer?: string }) => {
    const format = outputFormat(o);
    await labAction(async () => report(format, await faults().restoreLink(host, o.peer ?? null)))();
  });
  withOutputOptions(fault.command('stop <service>').description('SIGKILL placement | temporal (their SQLite files stay)')).action(async (service: string, o: OutputOpts) => {
    const format = outputFormat(o);
    const sv = serviceArg(service);
    await labAction(async () => report(format, await faults().stopService(sv)))();
  });
  withOutputOptions(fault.command('start <service>').description('start placement | temporal again on its SQLite file (histories, providers, allocations survive)')).action(
    async (service: string, o: OutputOpts) => {
      const format = outputFormat(o);
      const sv = serviceArg(service);
      await labAction(async () => report(format, await faults().startService(sv)))();
    },
  );
  withOutputOptions(fault.command('list').description('what is down now (observed), then every fault inflicted and healed since the lab came up')).action(async (o: OutputOpts) => {
    const format = outputFormat(o);
    await labAction(async () => {
      const { faultJournal, observeFaults } = faults();
      const down = await observeFaults();
      const journal = faultJournal();
      if (format === 'json') {
        printJson({ down, journal });
        return;
      }
      if (down.length === 0) printText('nothing is down');
      for (const d of down) printText(`DOWN\t${d.what}\t${d.detail}${d.since ? `\tsince ${d.since}` : ''}`);
      for (const e of journal) report(format, e);
    })();
  });
}

/** `--disk local:64` -> the lab disk's pool and size. */
function parseDiskOption(value: string, blocksPerSecond: number): { pool: 'local' | 'shared'; sizeMiB: number; blocksPerSecond: number } {
  const m = /^(local|shared):(\d+)$/.exec(value);
  if (!m) throw new UsageError(`--disk must be 'local:<MiB>' or 'shared:<MiB>', got '${value}'`, { option: '--disk', value });
  return { pool: m[1] as 'local' | 'shared', sizeMiB: Number(m[2]), blocksPerSecond };
}

/** `lab vm create|stall|delete`. */
function registerVmCommands(vm: Command): void {
  withOutputOptions(
    vm
      .command('create <name>')
      .description('define and start a test guest, wait for its heartbeat, allocate it in Placement')
      .requiredOption('--host <host>', 'lab host to start it on')
      .option('--mem <MiB>', 'guest memory in MiB', '256')
      .option('--rate <MiB/s>', "memory the guest dirties per second (0 = idle, 'max' = as fast as it can)", '0')
      .option('--wss <MiB>', 'working-set size the guest dirties, in MiB (default: most of its memory)')
      .option('--drift <MiB/s>', 'MiB/s the working set slides through memory (a moving hot set; needs --wss)')
      .option('--vcpus <n>', 'virtual CPUs', '1')
      .option('--disk <pool:MiB>', "a disk the guest writes and checks: 'local:<MiB>' (the host's own pool) or 'shared:<MiB>'")
      .option('--disk-rate <blocks/s>', '4 KiB blocks the guest writes a second on its disk', '50'),
  ).action(async (name: string, o: OutputOpts & { host: string; mem: string; rate: string; wss?: string; drift?: string; vcpus: string; disk?: string; diskRate: string }) => {
    const format = outputFormat(o);
    const options = {
      name,
      host: o.host,
      memoryMiB: parseNumberOption('--mem', o.mem),
      rateMiBps: o.rate === 'max' ? ('max' as const) : parseNumberOption('--rate', o.rate),
      wssMiB: o.wss === undefined ? undefined : parseNumberOption('--wss', o.wss),
      driftMiBps: o.drift === undefined ? undefined : parseNumberOption('--drift', o.drift),
      vcpus: parseNumberOption('--vcpus', o.vcpus),
      ...(o.disk === undefined ? {} : { disk: parseDiskOption(o.disk, parseNumberOption('--disk-rate', o.diskRate)) }),
    };
    await labAction(async () => {
      const { createLabVm } = require('../../lab/vms') as typeof import('../../lab/vms');
      const created = await createLabVm(options);
      if (format === 'json') printJson(created);
      say(`${created.name} (${created.uuid}) runs on ${o.host}`);
    })();
  });
  withOutputOptions(
    vm
      .command('stall <name>')
      .description('the longest stall the guest felt since the last reset: felt, longest gap and stopped time in ms')
      .option('--reset', 'reset the stall meter now'),
  ).action(async (name: string, o: OutputOpts & { reset?: boolean }) => {
    const format = outputFormat(o);
    await labAction(async () => {
      const { resetVmStall, vmStall } = require('../../lab/vms') as typeof import('../../lab/vms');
      if (o.reset) {
        await resetVmStall(name);
        say(`stall meter of ${name} reset`);
        return;
      }
      const r = await vmStall(name);
      if (format === 'json') printJson(r);
      else printText(`felt ${(r.feltUs / 1000).toFixed(1)} ms (longest gap ${(r.maxGapUs / 1000).toFixed(1)} ms, stopped ${(r.stoppedUs / 1000).toFixed(1)} ms)${r.settled ? '' : ' (not settled yet)'}`);
    })();
  });
  withOutputOptions(vm.command('delete <name>').description('destroy and undefine the guest on every host and drop its Placement allocation')).action(
    async (name: string, o: OutputOpts) => {
      outputFormat(o);
      await labAction(async () => {
        const { deleteLabVm } = require('../../lab/vms') as typeof import('../../lab/vms');
        await deleteLabVm(name);
        say(`${name} deleted`);
      })();
    },
  );

}

/** `lab migrate`: a raw p2p migration, no workflow. */
function registerRawMigrateCommand(lab: Command): void {
  withOutputOptions(
    lab
      .command('migrate <vm>')
      .description("a raw peer-to-peer live migration through ferry's libvirt client (no workflow), with a progress bar; exit 0 completed, 1 failed")
      .requiredOption('--to <host>', 'destination lab host')
      .option('--postcopy', 'switch to post-copy after the first pre-copy pass')
      .option('--bandwidth <MiB/s>', 'migration bandwidth cap in MiB/s'),
  ).action(async (name: string, o: OutputOpts & { to: string; postcopy?: boolean; bandwidth?: string }) => {
    const format = outputFormat(o);
    const bandwidthMiBps = o.bandwidth === undefined ? undefined : parseNumberOption('--bandwidth', o.bandwidth);
    await labAction(async () => {
      const { rawMigrate } = require('../../lab/raw-migration') as typeof import('../../lab/raw-migration');
      const { dirtyBytesPerSecond } = require('../../model/observation') as typeof import('../../model/observation');
      const tty = process.stderr.isTTY === true;
      let lastLine = 0;
      const result = await rawMigrate({
        vm: name,
        to: o.to,
        postcopyAfterFirstPass: o.postcopy === true,
        bandwidthMiBps,
        onSample: ({ stats, view, phase }) => {
          const line = renderBar({ phase, view, iteration: stats.memoryIteration ?? null, dirtyBps: dirtyBytesPerSecond(stats), bandwidthBps: stats.memoryBps ?? null });
          if (tty) process.stderr.write(`\r\x1b[2K${line}`);
          else if (Date.now() - lastLine >= 2000) {
            lastLine = Date.now();
            say(line);
          }
        },
      });
      if (tty) process.stderr.write('\n');
      if (format === 'json') printJson({ ...result, completed: undefined });
      else {
        printText(
          `${result.outcome}: ${result.vm} ${result.source} -> ${result.destination} in ${result.mode}, ` +
            `${(result.totalMs / 1000).toFixed(1)} s, downtime ${result.downtimeMs ?? '-'} ms, ` +
            `${result.bytes === null ? '-' : (result.bytes / 1048576).toFixed(0)} MiB sent, iterations ${result.iterations.length}` +
            `${result.error ? ` (${result.error})` : ''}\n` +
            `  source: ${result.hosts.source}; destination: ${result.hosts.destination}`,
        );
      }
      if (result.outcome !== 'completed') process.exitCode = EXIT.failed;
    })();
  });
}
