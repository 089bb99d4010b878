/**
 * PURE: the model's inputs read off a recorded lab trace (test/fixtures/traces, format
 * ferry-convergence-trace/1), so the model can be checked against what really happened and a
 * trace can be replayed under another policy (`ferry simulate`).
 *
 * What is read: the RAM (meta), the bandwidth (median transfer rate while pre-copy ran), the
 * guest's dirty rate (median dirty rate from the second pass on: the first pass reports none),
 * and the RAM holding data (what the first pass sent: zero pages cost nothing). The working set
 * is not recorded by the traces (their guests write over all of their RAM): left at the RAM.
 */
import type { SimLinkShape, SimVmShape } from './dirty-page-model';

/** The part of a recorded trace the fit reads (bench/record-trace.ts writes the whole). */
export interface RecordedTrace {
  name: string;
  meta: { vm: { memoryMiB: number }; abortAfterMs: number | null };
  result: { outcome: string; totalMs: number; downtimeMs: number | null; lastIteration: number | null };
  samples: Array<{
    atMs: number; phase: 'setup' | 'pre-copy' | 'post-copy'; iteration: number | null;
    dataProcessed: number | null; memoryBps: number | null; dirtyBps: number | null;
  }>;
}

export interface TraceFit {
  vm: SimVmShape;
  link: SimLinkShape;
  /** The recorder aborted the migration at this point (ms), if it did. */
  abortAfterMs: number | null;
}

const MiB = 1024 * 1024;
/** A link for a trace that never reported a rate (an idle guest sends almost nothing): 1 GiB/s. */
const UNMEASURED_LINK_BPS = 1024 * MiB;

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export function fitTrace(trace: RecordedTrace): TraceFit {
  const precopy = trace.samples.filter((s) => s.phase === 'pre-copy');
  const memoryBytes = trace.meta.vm.memoryMiB * MiB;
  const bw = median(precopy.map((s) => s.memoryBps ?? 0).filter((b) => b > 0));
  const dirty = median(precopy.filter((s) => (s.iteration ?? 0) >= 2).map((s) => s.dirtyBps ?? 0));
  const firstPassEnd = precopy.find((s) => (s.iteration ?? 0) >= 2) ?? precopy[precopy.length - 1];
  const touched = firstPassEnd?.dataProcessed ?? memoryBytes;
  return {
    vm: { memoryBytes, touchedBytes: Math.max(touched, 1), dirtyBps: dirty ?? 0 },
    link: { linkBps: bw ?? UNMEASURED_LINK_BPS },
    abortAfterMs: trace.meta.abortAfterMs,
  };
}
