/**
 * Records a convergence trace from a real lab migration: the libvirt job stats seen every poll
 * while a raw peer-to-peer migration runs, plus what the guest, link and versions were, saved as
 * JSON under test/fixtures/traces/ so that the pure convergence controller is tested on what
 * QEMU really reports (saw-tooth remaining bytes, iteration numbering, bandwidth ramps).
 *
 *   npx tsx bench/record-trace.ts --vm trace-1 --to host-a --out test/fixtures/traces/idle-256.json
 *   npx tsx bench/record-trace.ts --create --host host-c --mem 256 --rate 60 --vm trace-2 \
 *       --to host-a --cap-mbps 200 --abort-after-ms 60000 --out test/fixtures/traces/x.json
 *
 * The link cap applies to the VM's source host only (migration streams leave from there) and is
 * always removed again, whatever happens. With --create the VM is created first and deleted after.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { withHostClient } from '../lab/host-clients';
import { hostNetns, setLinkCap } from '../lab/network';
import { run } from '../lab/proc';
import { rawMigrate, type RawMigrationResult } from '../lab/raw-migration';
import { requireLabState } from '../lab/state';
import { createLabVm, deleteLabVm, locateVm, requireLabVm } from '../lab/vms';
import { dirtyBytesPerSecond } from '../model/observation';

export const TRACE_FORMAT = 'ferry-convergence-trace/1';

export interface TraceSample {
  /** ms since the migrate call was issued (the recorder's clock). */
  atMs: number;
  /** libvirt job type name (unbounded while running). */
  type: string;
  phase: 'setup' | 'pre-copy' | 'post-copy';
  iteration: number | null;
  dataTotal: number | null;
  dataRemaining: number | null;
  dataProcessed: number | null;
  /** Transfer rate and guest dirty rate, bytes/s (dirty = pages/s × page size). */
  memoryBps: number | null;
  dirtyBps: number | null;
  /** libvirt's expected downtime while running (ms), when reported. */
  expectedDowntimeMs: number | null;
}

export interface Trace {
  format: typeof TRACE_FORMAT;
  name: string;
  description: string;
  meta: {
    recordedAt: string;
    vm: { name: string; memoryMiB: number; vcpus: number; rateMiBps: number | 'max'; wssMiB: number | null };
    accel: string;
    source: string;
    destination: string;
    linkCapMbps: number | null;
    bandwidthMiBps: number | null;
    pollMs: number;
    abortAfterMs: number | null;
    postcopyAfterFirstPass: boolean;
    /**
     * Moments (ms) when the cap was found missing and put back: `ferry lab up` (which every
     * integration test file runs) resets the caps of all hosts. Empty = the cap held throughout.
     */
    capRestoredAtMs: number[];
    libvirtVersion: string;
    qemuVersion: string;
  };
  result: {
    outcome: RawMigrationResult['outcome'];
    aborted: boolean;
    error: string | null;
    mode: RawMigrationResult['mode'];
    totalMs: number;
    downtimeMs: number | null;
    bytes: number | null;
    /** migration-iteration events seen (count, and the last iteration number). */
    iterationEvents: number;
    lastIteration: number | null;
    postcopyRequests: number | null;
    hosts: RawMigrationResult['hosts'];
  };
  samples: TraceSample[];
}

interface RecordOptions {
  vm: string;
  to: string;
  out: string;
  name?: string;
  description?: string;
  capMbps?: number;
  bandwidthMiBps?: number;
  pollMs: number;
  abortAfterMs?: number;
  postcopy: boolean;
  create?: { host: string; memoryMiB: number; rateMiBps: number | 'max'; wssMiB?: number };
  keep: boolean;
}

export async function recordTrace(o: RecordOptions): Promise<Trace> {
  if (o.create) {
    await createLabVm({ name: o.vm, host: o.create.host, memoryMiB: o.create.memoryMiB, rateMiBps: o.create.rateMiBps, wssMiB: o.create.wssMiB });
  }
  try {
    const state = requireLabState();
    const vm = requireLabVm(o.vm, state);
    const where = await locateVm(o.vm, state);
    if (!where.host) throw new Error(`VM '${o.vm}' runs on no lab host`);
    const source = where.host;
    const versions = await withHostClient(source, async (c) => ({
      libvirt: (await c.getLibVersion()).text,
      qemu: (await c.getVersion()).text,
    }));

    const samples: TraceSample[] = [];
    let t0 = 0;
    let abortTimer: NodeJS.Timeout | undefined;
    let aborted = false;
    const capRestoredAtMs: number[] = [];
    let guard: CapGuard | undefined;
    if (o.capMbps !== undefined) {
      await setLinkCap(source, o.capMbps);
      guard = guardLinkCap(source, o.capMbps, (at) => {
        capRestoredAtMs.push(at - t0);
        process.stderr.write(`link cap of ${source} was removed by someone else; restored at ${((at - t0) / 1000).toFixed(1)} s\n`);
      });
    }
    let result: RawMigrationResult;
    try {
      t0 = Date.now();
      result = await rawMigrate({
        vm: o.vm,
        to: o.to,
        postcopyAfterFirstPass: o.postcopy,
        bandwidthMiBps: o.bandwidthMiBps,
        pollMs: o.pollMs,
        onSample: ({ stats, phase }) => {
          samples.push({
            atMs: Date.now() - t0,
            type: stats.typeName,
            phase,
            iteration: stats.memoryIteration ?? null,
            dataTotal: stats.dataTotal ?? null,
            dataRemaining: stats.dataRemaining ?? null,
            dataProcessed: stats.dataProcessed ?? null,
            memoryBps: stats.memoryBps ?? null,
            dirtyBps: dirtyBytesPerSecond(stats),
            expectedDowntimeMs: stats.downtimeMs ?? null,
          });
          const last = samples[samples.length - 1]!;
          if (samples.length % 10 === 1) {
            process.stderr.write(
              `${(last.atMs / 1000).toFixed(1)} s iter ${last.iteration ?? '-'} remaining ${mib(last.dataRemaining)} MiB ` +
                `bw ${mib(last.memoryBps)} MiB/s dirty ${mib(last.dirtyBps)} MiB/s\n`,
            );
          }
        },
        onJobRunning: ({ abort }) => {
          if (o.abortAfterMs === undefined) return;
          const wait = Math.max(0, o.abortAfterMs - (Date.now() - t0));
          abortTimer = setTimeout(() => {
            aborted = true;
            process.stderr.write(`aborting after ${o.abortAfterMs} ms as asked\n`);
            abort().catch((err: Error) => process.stderr.write(`abort failed: ${err.message}\n`));
          }, wait);
        },
      });
    } finally {
      if (abortTimer) clearTimeout(abortTimer);
      await guard?.stop();
      if (o.capMbps !== undefined) await setLinkCap(source, null);
    }

    const trace: Trace = {
      format: TRACE_FORMAT,
      name: o.name ?? path.basename(o.out, '.json'),
      description: o.description ?? '',
      meta: {
        recordedAt: new Date().toISOString(),
        vm: { name: vm.name, memoryMiB: vm.memoryMiB, vcpus: vm.vcpus, rateMiBps: vm.rateMiBps, wssMiB: vm.wssMiB },
        accel: state.accel,
        source,
        destination: o.to,
        linkCapMbps: o.capMbps ?? null,
        bandwidthMiBps: o.bandwidthMiBps ?? null,
        pollMs: o.pollMs,
        abortAfterMs: o.abortAfterMs ?? null,
        postcopyAfterFirstPass: o.postcopy,
        capRestoredAtMs,
        libvirtVersion: versions.libvirt,
        qemuVersion: versions.qemu,
      },
      result: {
        outcome: result.outcome,
        aborted,
        error: result.error,
        mode: result.mode,
        totalMs: result.totalMs,
        downtimeMs: result.downtimeMs,
        bytes: result.bytes,
        iterationEvents: result.iterations.length,
        lastIteration: result.iterations.length ? result.iterations[result.iterations.length - 1]! : null,
        postcopyRequests: result.postcopyRequests,
        hosts: result.hosts,
      },
      samples,
    };
    fs.mkdirSync(path.dirname(o.out), { recursive: true });
    fs.writeFileSync(o.out, `${JSON.stringify(trace, null, 1)}\n`);
    return trace;
  } finally {
    if (o.create && !o.keep) await deleteLabVm(o.vm).catch((err: Error) => process.stderr.write(`delete ${o.vm} failed: ${err.message}\n`));
  }
}

interface CapGuard {
  stop(): Promise<void>;
}

/** Checks every 200 ms that the host's token bucket is still there and puts it back if not. */
function guardLinkCap(host: string, mbps: number, onRestored: (atMs: number) => void): CapGuard {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await new Promise((r) => setTimeout(r, 200));
      if (stopped) break;
      const qdisc = await run('tc', ['-n', hostNetns(host), 'qdisc', 'show', 'dev', 'eth0']).catch(() => '');
      if (!stopped && !qdisc.includes('tbf')) {
        await setLinkCap(host, mbps);
        onRestored(Date.now());
      }
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

function mib(bytes: number | null): string {
  return bytes === null ? '-' : (bytes / 1048576).toFixed(1);
}

function positiveInt(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} must be a positive whole number, got '${v}'`);
    return n;
  };
}

async function main(argv: string[]): Promise<void> {
  const cmd = new Command('record-trace')
    .description('record libvirt job stats of a raw lab migration as a convergence trace (JSON)')
    .requiredOption('--vm <name>', 'lab VM to migrate')
    .requiredOption('--to <host>', 'destination lab host')
    .requiredOption('--out <file>', 'trace file to write')
    .option('--name <name>', 'trace name (default: file name)')
    .option('--description <text>', 'what the trace shows')
    .option('--cap-mbps <mbps>', "cap the SOURCE host's link (Mbit/s) while recording; removed afterwards", positiveInt('--cap-mbps'))
    .option('--bandwidth <MiB/s>', 'libvirt migration bandwidth cap', positiveInt('--bandwidth'))
    .option('--poll-ms <ms>', 'job-stats poll interval', positiveInt('--poll-ms'), 500)
    .option('--abort-after-ms <ms>', 'abort the job this long after the migrate call (pre-copy that never converges)', positiveInt('--abort-after-ms'))
    .option('--postcopy', 'switch to post-copy after the first pre-copy pass', false)
    .option('--create', 'create the VM first (with --host/--mem/--rate/--wss) and delete it afterwards', false)
    .option('--keep', 'with --create: keep the VM afterwards', false)
    .option('--host <host>', 'with --create: host to start it on')
    .option('--mem <MiB>', 'with --create: memory', positiveInt('--mem'), 256)
    .option('--rate <MiB/s>', "with --create: dirty rate (0 = idle, 'max')", '0')
    .option('--wss <MiB>', 'with --create: working-set size', positiveInt('--wss'));
  cmd.parse(argv);
  const f = cmd.opts<{
    vm: string; to: string; out: string; name?: string; description?: string; capMbps?: number; bandwidth?: number;
    pollMs: number; abortAfterMs?: number; postcopy: boolean; create: boolean; keep: boolean; host?: string;
    mem: number; rate: string; wss?: number;
  }>();
  if (f.create && !f.host) throw new Error('--create needs --host');
  const rate = f.rate === 'max' ? 'max' : Number(f.rate);
  if (rate !== 'max' && !(Number.isInteger(rate) && rate >= 0)) throw new Error(`--rate must be a whole number or 'max', got '${f.rate}'`);
  const trace = await recordTrace({
    vm: f.vm,
    to: f.to,
    out: f.out,
    name: f.name,
    description: f.description,
    capMbps: f.capMbps,
    bandwidthMiBps: f.bandwidth,
    pollMs: f.pollMs,
    abortAfterMs: f.abortAfterMs,
    postcopy: f.postcopy,
    create: f.create ? { host: f.host!, memoryMiB: f.mem, rateMiBps: rate, wssMiB: f.wss } : undefined,
    keep: f.keep,
  });
  const r = trace.result;
  process.stdout.write(
    `${trace.name}: ${r.outcome}${r.aborted ? ' (aborted as asked)' : ''} in ${r.mode}, ${(r.totalMs / 1000).toFixed(1)} s, ` +
      `downtime ${r.downtimeMs ?? '-'} ms, ${r.iterationEvents} iteration events, ${trace.samples.length} samples -> ${f.out}\n`,
  );
}

if (require.main === module) {
  main(process.argv).catch((err: Error) => {
    process.stderr.write(`record-trace: ${err.message}\n`);
    process.exitCode = 1;
  });
}
