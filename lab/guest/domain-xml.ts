/**
 * libvirt domain XML for the lab guest: diskless unless asked, no NIC, no graphics (unless asked), no balloon, COM1 logged to a
 * file. Nothing in it blocks live migration or post-copy.
 */
export interface GuestDomainOptions {
  name: string;
  uuid: string;
  memoryMiB: number;
  vcpus?: number;
  accel: 'kvm' | 'tcg';
  /** Absolute path of the guest ELF; must exist at the same path on every host. */
  kernelPath: string;
  /** MiB/s of memory the guest dirties; 0 = idle; 'max' = as fast as it can. */
  rateMiBps: number | 'max';
  /** Working-set size in MiB; default: all RAM from 2 MiB up to 1 MiB below the end. */
  wssMiB?: number;
  /** MiB/s the working set slides through RAM (a moving hot set); default 0: it stays put. */
  driftMiBps?: number;
  /**
   * Where QEMU writes COM1. Resolved by each host's QEMU in its own mount namespace, so after a
   * migration the destination writes its own copy at the same path. Use /var/log/libvirt/qemu/….
   */
  serialLogPath: string;
  /**
   * The QEMU binary (absent: the host's default). The bench runs Debian 12's QEMU 7.2 beside the
   * lab's QEMU 10 under the same libvirt (lab/legacy-qemu.ts): same guest, same link, with and
   * without post-copy preemption.
   */
  emulator?: string;
  /**
   * A VNC console with this password (absent: no graphics). Tests use it to check that a secret of
   * the guest's XML never reaches Temporal's history or a log (test/integration/secrets.test.ts).
   */
  graphicsPassword?: string;
  /**
   * vPMEM devices (nvdimm), each backed by a persistent-memory namespace of the host: its path as
   * the host's QEMU sees it and its size. The guest gets ACPI (QEMU plugs no nvdimm without it), a
   * NUMA cell and room above its RAM for the devices; it does not touch them itself.
   */
  vpmem?: Array<{ path: string; sizeMiB: number }>;
  /**
   * A disk the guest writes continuously (`disk=N` on its command line): self-checking 4 KiB blocks
   * round-robin over the whole disk, each acknowledged only after a FLUSH CACHE (README.md, "The
   * disk"; lab/guest/disk-check.ts checks the image afterwards). It is the primary IDE master.
   */
  disk?: GuestDisk;
}

export interface GuestDisk {
  /** The image as the host's QEMU sees it (absolute). */
  path: string;
  format: 'raw' | 'qcow2';
  /** 4 KiB blocks written per second, 1..1000. */
  blocksPerSecond: number;
  /**
   * Host cache mode; default 'none'. Both allowed modes bypass the host page cache (O_DIRECT), so
   * when the guest's FLUSH CACHE completes (QEMU fdatasyncs the image) the block is in the file
   * for any reader, and libvirt allows live migration of the disk without VIR_MIGRATE_UNSAFE: with
   * a host-cached mode the destination could read stale pages of shared storage. 'writeback' and
   * 'unsafe' (which ignores flushes) are refused for that reason.
   */
  cache?: 'none' | 'directsync';
}

/** The guest writes at most 1000 blocks a second (guest.c clamps); more is refused here. */
const MAX_DISK_BLOCKS_PER_SECOND = 1000;

export function escapeXml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** The guest's kernel command line (parsed by guest.c): `rate=<MiB/s|max> [wss=<MiB>] [drift=<MiB/s>] [disk=<blocks/s>]`. */
export function guestCmdline(rateMiBps: number | 'max', wssMiB?: number, driftMiBps?: number, diskBlocksPerSecond?: number): string {
  const parts: string[] = [];
  if (rateMiBps === 'max') {
    parts.push('rate=max');
  } else {
    if (!Number.isInteger(rateMiBps) || rateMiBps < 0) {
      throw new Error(`rateMiBps must be a non-negative integer or 'max', got ${rateMiBps}`);
    }
    parts.push(`rate=${rateMiBps}`);
  }
  if (wssMiB !== undefined) {
    if (!Number.isInteger(wssMiB) || wssMiB <= 0) throw new Error(`wssMiB must be a positive integer, got ${wssMiB}`);
    parts.push(`wss=${wssMiB}`);
  }
  if (driftMiBps !== undefined && driftMiBps !== 0) {
    if (!Number.isInteger(driftMiBps) || driftMiBps < 0) throw new Error(`driftMiBps must be a non-negative integer, got ${driftMiBps}`);
    if (wssMiB === undefined) throw new Error('driftMiBps needs wssMiB: a working set that covers all RAM has nowhere to move');
    parts.push(`drift=${driftMiBps}`);
  }
  if (diskBlocksPerSecond !== undefined) {
    if (!Number.isInteger(diskBlocksPerSecond) || diskBlocksPerSecond < 1 || diskBlocksPerSecond > MAX_DISK_BLOCKS_PER_SECOND) {
      throw new Error(`disk.blocksPerSecond must be an integer from 1 to ${MAX_DISK_BLOCKS_PER_SECOND}, got ${diskBlocksPerSecond}`);
    }
    parts.push(`disk=${diskBlocksPerSecond}`);
  }
  return parts.join(' ');
}

export function guestDomainXml(opts: GuestDomainOptions): string {
  const vcpus = opts.vcpus ?? 1;
  if (!/^[A-Za-z0-9_.+-]+$/.test(opts.name)) throw new Error(`invalid domain name ${JSON.stringify(opts.name)}`);
  if (!/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(opts.uuid)) {
    throw new Error(`invalid uuid ${JSON.stringify(opts.uuid)}`);
  }
  if (!Number.isInteger(opts.memoryMiB) || opts.memoryMiB < 8) {
    throw new Error(`memoryMiB must be an integer >= 8, got ${opts.memoryMiB}`);
  }
  if (!Number.isInteger(vcpus) || vcpus < 1) throw new Error(`vcpus must be a positive integer, got ${vcpus}`);
  if (!opts.kernelPath.startsWith('/')) throw new Error(`kernelPath must be absolute: ${opts.kernelPath}`);
  if (opts.emulator !== undefined && !opts.emulator.startsWith('/')) throw new Error(`emulator must be absolute: ${opts.emulator}`);
  if (!opts.serialLogPath.startsWith('/')) throw new Error(`serialLogPath must be absolute: ${opts.serialLogPath}`);
  const vpmem = opts.vpmem ?? [];
  for (const d of vpmem) {
    if (!d.path.startsWith('/')) throw new Error(`vpmem path must be absolute: ${d.path}`);
    // QEMU aligns an x86 nvdimm to 2 MiB; a size it would round is refused here, not by QEMU later.
    if (!Number.isInteger(d.sizeMiB) || d.sizeMiB < 2 || d.sizeMiB % 2 !== 0) throw new Error(`vpmem sizeMiB must be an even whole number of MiB >= 2, got ${d.sizeMiB}`);
  }
  const disk = opts.disk;
  if (disk !== undefined) {
    if (!disk.path.startsWith('/')) throw new Error(`disk.path must be absolute: ${disk.path}`);
    if (disk.format !== 'raw' && disk.format !== 'qcow2') throw new Error(`disk.format must be 'raw' or 'qcow2', got ${JSON.stringify(disk.format)}`);
    if (disk.cache !== undefined && disk.cache !== 'none' && disk.cache !== 'directsync') {
      throw new Error(`disk.cache must be 'none' or 'directsync' (a flushed write must be in the file, and libvirt migrates only those safely), got ${JSON.stringify(disk.cache)}`);
    }
  }
  const e = escapeXml;
  const cmdline = guestCmdline(opts.rateMiBps, opts.wssMiB, opts.driftMiBps, disk?.blocksPerSecond);
  // type 'qemu' is TCG. No <cpu>: the default model (host-passthrough / -cpu max crashed under KVM).
  return `<domain type='${opts.accel === 'kvm' ? 'kvm' : 'qemu'}'>
  <name>${e(opts.name)}</name>
  <uuid>${e(opts.uuid.toLowerCase())}</uuid>
${vpmem.length === 0 ? '' : `  <maxMemory slots='${vpmem.length}' unit='MiB'>${opts.memoryMiB + vpmem.reduce((n, d) => n + d.sizeMiB, 0)}</maxMemory>
`}  <memory unit='MiB'>${opts.memoryMiB}</memory>
${vpmem.length === 0 ? `  <currentMemory unit='MiB'>${opts.memoryMiB}</currentMemory>
` : ''}  <vcpu placement='static'>${vcpus}</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${e(opts.kernelPath)}</kernel>
    <cmdline>${e(cmdline)}</cmdline>
  </os>
${vpmem.length === 0 ? '' : `  <features>
    <acpi/>
  </features>
  <cpu>
    <numa>
      <cell id='0' cpus='0-${vcpus - 1}' memory='${opts.memoryMiB}' unit='MiB'/>
    </numa>
  </cpu>
`}  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>${opts.emulator === undefined ? '' : `
    <emulator>${e(opts.emulator)}</emulator>`}${disk === undefined ? '' : `
    <disk type='file' device='disk'>
      <driver name='qemu' type='${disk.format}' cache='${disk.cache ?? 'none'}'/>
      <source file='${e(disk.path)}'/>
      <target dev='hda' bus='ide'/>
    </disk>`}
    <controller type='usb' model='none'/>
    <serial type='file'>
      <source path='${e(opts.serialLogPath)}' append='on'/>
      <target type='isa-serial' port='0'/>
    </serial>
    <console type='file'>
      <source path='${e(opts.serialLogPath)}' append='on'/>
      <target type='serial' port='0'/>
    </console>
    <memballoon model='none'/>${vpmem.map((d) => `
    <memory model='nvdimm' access='shared'>
      <source>
        <path>${e(d.path)}</path>
      </source>
      <target>
        <size unit='MiB'>${d.sizeMiB}</size>
        <node>0</node>
      </target>
    </memory>`).join('')}${opts.graphicsPassword === undefined ? '' : `
    <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1' passwd='${e(opts.graphicsPassword)}'/>`}
  </devices>
</domain>
`;
}
