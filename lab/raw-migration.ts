import {
  DomainXmlFlags, MigrateFlags, buildMigrationParams, type DomainRef, type JobStats, type LibvirtClient,
} from '../activities/libvirt';
import { progressView, type ProgressView } from '../model/progress';
import { findDomain, withHostClients } from './host-clients';
import { hostPeerUri, hostTlsPeerUri } from './hosts';
import { sleep, waitFor } from './proc';
import { requireLabState } from './state';
import { locateWith } from './vms';
import { dirtyBytesPerSecond } from '../model/observation';

/**
 * A raw peer-to-peer migration through ferry's libvirt client, with no workflow around it: the
 * lab's main job until the LiveMigration workflow lands, and the way integration tests and
 * benchmarks drive a migration directly. Pre-copy, or post-copy switched on after the first
 * pre-copy pass (the field notes' finding: downtime 3.5 s -> under 1 s).
 */

export interface RawMigrationOptions {
  vm: string;
  to: string;
  /** Switch to post-copy once the first pre-copy pass is done. */
  postcopyAfterFirstPass?: boolean;
  bandwidthMiBps?: number;
  pollMs?: number;
  onSample?: (s: RawSample) => void;
  /** Called once the job is seen running on the source (e.g. to abort it, or to kill the caller). */
  onJobRunning?: (ctl: { source: LibvirtClient; abort: () => Promise<void> }) => void;
  /** Extra migrate flags: post-copy allowed (switched only by postcopyAfterFirstPass or onPoll), auto-converge. */
  allowPostcopy?: boolean;
  autoConverge?: boolean;
  /** Encrypt the stream (VIR_MIGRATE_TLS) and reach the destination's libvirtd over qemu+tls. */
  tls?: boolean;
  /**
   * Awaited on every poll while the job runs, with the domain on the source: how a benchmark steers
   * the migration the way another system would (max downtime, post-copy, abort).
   */
  onPoll?: (poll: RawPoll, ctl: { source: LibvirtClient; dom: DomainRef }) => Promise<void>;
}

export interface RawPoll {
  /** ms since the migrate call was issued. */
  elapsedMs: number;
  /** null while the source reports no job yet. */
  stats: JobStats | null;
  postcopy: boolean;
}

export interface RawSample {
  stats: JobStats;
  view: ProgressView;
  phase: 'setup' | 'pre-copy' | 'post-copy';
}

export interface RawMigrationResult {
  vm: string;
  source: string;
  destination: string;
  outcome: 'completed' | 'failed';
  error: string | null;
  mode: 'precopy' | 'postcopy';
  totalMs: number;
  downtimeMs: number | null;
  bytes: number | null;
  iterations: number[];
  postcopyRequests: number | null;
  /** Final statistics from the source's job-completed event (null when the job did not complete). */
  completed: JobStats | null;
  hosts: { source: string; destination: string };
}

export async function rawMigrate(o: RawMigrationOptions): Promise<RawMigrationResult> {
  const state = requireLabState();
  if (!state.hosts.some((h) => h.name === o.to)) {
    throw new Error(`--to must be one of ${state.hosts.map((h) => h.name).join(', ')}, got '${o.to}'`);
  }
  return withHostClients(state.hosts, async (clients) => {
    const where = await locateWith(clients, o.vm);
    if (!where.host) throw new Error(`VM '${o.vm}' runs on no lab host`);
    if (where.host === o.to) throw new Error(`VM '${o.vm}' already runs on ${o.to}`);
    const src = clients.get(where.host)!;
    const found = (await findDomain(src, o.vm))!;
    const dom = found.dom;

    const iterations: number[] = [];
    let completed: JobStats | null = null;
    let postcopyStarted = false;
    const subs = [
      await src.onMigrationIteration((e) => iterations.push(e.iteration), dom),
      await src.onJobCompleted((e) => (completed = e.stats), dom),
      // Suspended / post-copy on the source: the switch really happened (a successful
      // StartPostCopy call alone does not prove it: field notes).
      await src.onLifecycle((e) => {
        if (e.eventName === 'Suspended' && e.detailName === 'Postcopy') postcopyStarted = true;
      }, dom),
    ];

    const xml = await src.domainGetXmlDesc(dom, DomainXmlFlags.Migratable);
    const flags = MigrateFlags.Live | MigrateFlags.Peer2Peer | MigrateFlags.PersistDest | MigrateFlags.UndefineSource
      | (o.postcopyAfterFirstPass || o.allowPostcopy ? MigrateFlags.Postcopy : 0)
      | (o.autoConverge ? MigrateFlags.AutoConverge : 0)
      | (o.tls ? MigrateFlags.Tls : 0);
    const params = buildMigrationParams({ destXml: xml, persistXml: xml, bandwidthMiBs: o.bandwidthMiBps });
    const t0 = Date.now();
    let finished = false;
    const perform = src
      .domainMigratePerform3Params(dom, { dconnuri: o.tls ? hostTlsPeerUri(o.to) : hostPeerUri(o.to), params, flags })
      .then(() => null, (err: Error) => err.message)
      .finally(() => (finished = true));

    let percent = 0;
    let announced = false;
    let switchRequested = false;
    while (!finished) {
      const stats = await src.domainGetJobStats(dom).catch(() => null);
      if (o.onPoll) {
        await o.onPoll({ elapsedMs: Date.now() - t0, stats: stats && stats.type !== 0 ? stats : null, postcopy: postcopyStarted }, { source: src, dom });
      }
      if (stats && stats.type !== 0) {
        const started = (stats.dataTotal ?? 0) > 0;
        const sample = {
          totalBytes: stats.dataTotal ?? 0,
          remainingBytes: stats.dataRemaining ?? 0,
          bandwidthBps: stats.memoryBps ?? null,
          dirtyBps: dirtyBytesPerSecond(stats),
          iteration: stats.memoryIteration ?? null,
        };
        const view = progressView(percent, sample);
        percent = view.percent;
        const phase = postcopyStarted ? 'post-copy' : started ? 'pre-copy' : 'setup';
        o.onSample?.({ stats, view, phase });
        if (!announced && started) {
          announced = true;
          o.onJobRunning?.({ source: src, abort: () => src.domainAbortJob(dom) });
        }
        // The first pass is over when QEMU starts its second iteration.
        const secondPass = iterations.some((i) => i >= 2) || (stats.memoryIteration ?? 0) >= 2;
        if (o.postcopyAfterFirstPass && !switchRequested && secondPass) {
          switchRequested = true;
          await src.domainMigrateStartPostCopy(dom).catch(() => undefined); // it may finish in pre-copy first
        }
      }
      await Promise.race([perform, sleep(o.pollMs ?? 500)]);
    }
    const error = await perform;
    if (!error) await waitFor('the job-completed event', () => completed !== null, { timeoutMs: 5_000 }).catch(() => undefined);
    for (const s of subs) await s.unsubscribe().catch(() => undefined);
    const after = await locateWith(clients, o.vm);
    const stateOn = (h: string) => after.presentOn.find((p) => p.host === h);
    const fmt = (h: string) => (stateOn(h) ? `${stateOn(h)!.state} (${stateOn(h)!.reason})` : 'absent');
    const done = completed as JobStats | null;
    return {
      vm: o.vm,
      source: where.host,
      destination: o.to,
      outcome: !error && after.host === o.to ? 'completed' : 'failed',
      error,
      mode: postcopyStarted ? 'postcopy' : 'precopy',
      totalMs: Date.now() - t0,
      downtimeMs: done?.downtimeMs ?? null,
      bytes: done?.dataProcessed ?? null,
      iterations,
      postcopyRequests: done?.memoryPostcopyRequests ?? null,
      completed: done,
      hosts: { source: fmt(where.host), destination: fmt(o.to) },
    };
  });
}
