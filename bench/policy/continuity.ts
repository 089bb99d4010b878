/**
 * Reads the lab hosts' serial logs of the bench's guests (they stay after the VMs are deleted)
 * and prints, for each guest that moved from --from to --to, whether it went on from where it was
 * or went back in time (lab/guest/continuity.ts).
 *
 *   npx tsx bench/policy/continuity.ts [--prefix bp-] [--from host-a] [--to host-b]
 */
import fs from 'node:fs';
import { Command } from 'commander';
import { moveContinuity } from '../../lab/guest/continuity';
import { hostPath } from '../../lab/hosts';
import { vmSerialOn } from '../../lab/vms';

async function main(): Promise<void> {
  const o = new Command().option('--prefix <p>', 'VM name prefix', 'bp-').option('--from <host>', 'source', 'host-a').option('--to <host>', 'destination', 'host-b')
    .parse().opts<{ prefix: string; from: string; to: string }>();
  const dir = hostPath(o.to, '/var/log/libvirt/qemu');
  const names = fs.readdirSync(dir).filter((f) => f.startsWith(o.prefix) && f.endsWith('-serial.log')).map((f) => f.slice(0, -'-serial.log'.length)).sort();
  const rows = [];
  for (const vm of names) {
    const c = moveContinuity(await vmSerialOn(vm, o.from), await vmSerialOn(vm, o.to));
    if (c.destinationFirst === null) continue;
    rows.push({ vm, ...c });
    console.log(`${vm.padEnd(40)} source last ${String(c.sourceLast).padStart(4)}  destination first ${String(c.destinationFirst).padStart(4)}  ${c.regressedBy ? `WENT BACK ${c.regressedBy} heartbeats` : 'went on'}`);
  }
  const back = rows.filter((r) => r.regressedBy > 0);
  console.log(`${back.length} of ${rows.length} moved guests went back in time`);
  console.log(JSON.stringify({ bench: 'continuity', moved: rows.length, wentBack: back.map((r) => ({ vm: r.vm, by: r.regressedBy })) }));
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
