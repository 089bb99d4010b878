/** Real libvirt 9.0 migratable XML captured from the lab (see test/fixtures/xml/README.md). */
import fs from 'node:fs';
import path from 'node:path';
import type { DestinationFacts } from '../../../activities/libvirt/dest-xml';

const dir = path.join(__dirname, '..', '..', 'fixtures', 'xml');

export const fixtureNames = ['lab-guest.xml', 'pinned-vnc-tcp-serial.xml', 'pmem-hostdev-vhostuser.xml'] as const;

export function fixture(name: (typeof fixtureNames)[number]): string {
  return fs.readFileSync(path.join(dir, name), 'utf8');
}

/** host-c's XML moving to host-b, whose facts fit the guest as it is. */
export const hostB: DestinationFacts = {
  hostName: 'host-b',
  migrationAddress: '10.77.0.12',
  graphicsListen: '10.77.0.12',
  numaNodes: [0],
  cpuSet: '0-1',
};

export interface LineChange {
  line: number;
  from: string;
  to: string;
}

/** Line-by-line difference of two texts with the same number of lines (the rewrite never adds lines). */
export function changedLines(before: string, after: string): LineChange[] {
  const a = before.split('\n');
  const b = after.split('\n');
  if (a.length !== b.length) throw new Error(`line count changed: ${a.length} -> ${b.length}`);
  const out: LineChange[] = [];
  a.forEach((line, i) => {
    if (line !== b[i]) out.push({ line: i + 1, from: line.trim(), to: b[i]!.trim() });
  });
  return out;
}
