import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure, log } from '@temporalio/activity';
import type { FinishInput, FinishResult, HostDomainView } from '../model/activity-contract';
import type { ActivityDeps } from './deps';
import { lookupVm } from './domain-facts';
import { guarded, type Target } from './guard';
import { hostView } from './host-view';
import { ErrorCode, isLibvirtError } from './libvirt';
import { placementFailure } from './claims';
import { dropMigrationAllocation } from './placement';
import { dropCreatedMarkers, removeSourceVolumes } from './storage/volumes';
import { classifySituation, describeHost, jobViewOf, type FinishedJob } from '../model/situation';

/** Finish: both hosts agree the guest moved (roll back is in rollback.ts). */


/**
 * This migration's completed record: the source's (migration_out, kept by KEEP_COMPLETED on its
 * inactive definition), else the destination's (a pre-copy leaves the same figures there as
 * migration_in; a post-copy leaves none).
 */
function completedRecord(src: HostDomainView, dst: HostDomainView): FinishedJob | undefined {
  const out = src.finishedJob;
  if (out?.type === 'completed' && (out.operation === undefined || out.operation === 'migration_out')) return out;
  const inc = dst.finishedJob;
  return inc?.type === 'completed' && inc.operation === 'migration_in' ? inc : undefined;
}


export function finishActivities(deps: ActivityDeps) {
  /**
   * Success only when BOTH hosts agree: the destination runs the VM and the source does not.
   * Then the final statistics from the source's completed job. Reads only; idempotent.
   */
  async function judgeFinished(input: FinishInput): Promise<{ src: HostDomainView; dst: HostDomainView; stats: FinishResult['stats'] }> {
    const dst = await hostView(deps, input.destination, input.vm.uuid);
    const src = await hostView(deps, input.source, input.vm.uuid);
    const where = classifySituation(src, dst, jobViewOf(src, dst));
    if (where.next !== 'finish' && where.next !== 'finish-on-source') {
      // Retryable: the switch-over may still be settling; the workflow decides after its retries.
      throw ApplicationFailure.retryable(`the hosts do not agree yet that ${input.vm.name} moved: ${where.explanation}`, 'HostsDisagree');
    }
    // The views already hold the final figures (read with KEEP_COMPLETED). The source's QEMU stops
    // a moment before its job ends, and only then is the record kept (seen on the lab): look once more.
    let record = completedRecord(src, dst);
    if (src.domain !== 'none' && src.finishedJob === undefined) {
      await sleep(500);
      record = completedRecord(await hostView(deps, input.source, input.vm.uuid), dst) ?? record;
    }
    const stats: FinishResult['stats'] = {
      downtimeMs: record?.downtimeMs ?? null,
      totalMs: record?.elapsedMs ?? null,
      bytes: record?.dataProcessed ?? null,
      iterations: record?.memoryIteration ?? null,
      postcopyRequests: record?.postcopyRequests ?? null,
    };
    return { src, dst, stats };
  }

  /**
   * The source's inactive definition removed (the final figures have been read by then), through
   * the guard: the judgement above is a few hundred ms old, so both hosts are observed again and
   * the definition goes only if the guest (still) is on the destination. What could not be
   * removed is reported in `notes` and in the worker's log, never swallowed.
   */
  async function cleanSource(input: FinishInput, judged: Awaited<ReturnType<typeof judgeFinished>>): Promise<FinishResult> {
    const cleaned = judged.src.domain === 'none' ? { notes: [] } : await undefineSource(input);
    for (const note of cleaned.notes) log.warn('ferry: finish left the source definition in place', { vm: input.vm.name, note });
    const volumes = await removeCopiedSourceVolumes(input);
    const after = await hostView(deps, input.source, input.vm.uuid);
    return {
      ...(volumes.length ? { volumes } : {}),
      stats: judged.stats,
      hosts: { source: describeHost(after), destination: describeHost(cleaned.destination ?? judged.dst) },
      ...(cleaned.notes.length > 0 ? { notes: cleaned.notes } : {}),
    };
  }

  /**
   * Undefine the source's inactive definition if the guard allows it ('clean-source'). A refusal
   * for a host that cannot be seen fails the attempt (retryable): never guess, the retry judges
   * both hosts again. Any other refusal is a fact both hosts showed after the migration had been
   * judged complete (the destination guest gone, or not started yet, a second copy): retrying
   * cannot change it, throwing would only turn a completed migration into a failed one an hour
   * later, and the kept definition is what an operator needs then. So it is kept and reported.
   */
  async function undefineSource(input: FinishInput): Promise<{ notes: string[]; destination?: HostDomainView | null }> {
    const t: Target = { vmUuid: input.vm.uuid, source: input.source, destination: input.destination };
    const r = await guarded(deps, t, 'clean-source', async () => undefineOn(input.source, input.vm.uuid));
    if (r.done) return { notes: r.result === undefined ? [] : [r.result], destination: r.observed.destination };
    if (r.refusal.next === 'retry-observe') {
      throw ApplicationFailure.retryable(`the source definition of ${input.vm.name} is not removed yet: ${r.refusal.why}`, 'HostsDisagree');
    }
    return { notes: [`kept the source definition on ${input.source}: ${r.refusal.why}`], destination: r.observed.destination };
  }

  /**
   * Block migration: the source volumes of the copied disks, through the guard's 'clean-source'
   * verdict (both hosts observed again: the guest runs on the destination alone), and only once no
   * QEMU on the source holds them (its domain gone or shut off). A refusal keeps them and says so;
   * a source still settling is retried. The destination's markers go too: its volumes are the
   * guest's disks now, never to be removed by a roll-back.
   */
  async function removeCopiedSourceVolumes(input: FinishInput): Promise<string[]> {
    const copies = input.diskCopies ?? [];
    if (copies.length === 0) return [];
    const t: Target = { vmUuid: input.vm.uuid, source: input.source, destination: input.destination };
    const r = await guarded(deps, t, 'clean-source', async (o) => {
      if (o.source.domain !== 'none' && o.source.domain.state !== 'shutoff') {
        throw ApplicationFailure.retryable(`the source's QEMU still holds the copied disks of ${input.vm.name} (${o.source.domain.state}): not removed yet`, 'HostsDisagree');
      }
      const removed = await removeSourceVolumes(await deps.connections.get(input.source), copies);
      await dropCreatedMarkers(await deps.connections.get(input.destination), input.migrationId, copies);
      return removed;
    });
    if (r.done) return r.result.length ? r.result : ['the source volumes of the copied disks were already gone'];
    if (r.refusal.next === 'retry-observe') {
      throw ApplicationFailure.retryable(`the source volumes of ${input.vm.name} are not removed yet: ${r.refusal.why}`, 'HostsDisagree');
    }
    const kept = `kept the source volumes ${copies.map((c) => c.sourcePath).join(', ')} on ${input.source}: ${r.refusal.why}`;
    log.warn('ferry: finish left the copied disks\' source volumes in place', { vm: input.vm.name, note: kept });
    return [kept];
  }

  /**
   * Undefines the VM on `host`; undefined when it is gone. A failure is returned in words: the
   * migration is complete, and libvirt's refusals here (snapshots, NVRAM) do not pass with retries.
   */
  async function undefineOn(host: string, vmUuid: string): Promise<string | undefined> {
    try {
      const c = await deps.connections.get(host);
      const dom = await lookupVm(c, vmUuid);
      if (dom) await c.domainUndefine(dom);
      return undefined;
    } catch (err) {
      if (isLibvirtError(err, ErrorCode.NoDomain)) return undefined; // removed meanwhile: nothing left to do
      return `could not remove the source definition on ${host}: ${(err as Error).message}`;
    }
  }

  /**
   * The libvirt half of finish: judged from both hosts, final stats, source cleaned. Never touches
   * Placement, so a Placement outage cannot hold it up; the workflow then drops the migration
   * consumer with dropMigrationClaim (bookkeeping, retried on its own without re-judging).
   */
  async function finishOnHosts(input: FinishInput): Promise<FinishResult> {
    return cleanSource(input, await judgeFinished(input));
  }

  /**
   * finishOnHosts with the migration consumer's allocation dropped in between (the combined step,
   * until the workflow calls the two halves). Idempotent.
   */
  async function finishMigration(input: FinishInput): Promise<FinishResult> {
    const judged = await judgeFinished(input);
    try {
      await dropMigrationAllocation(deps.placement, input.migrationId, { vmUuid: input.vm.uuid });
    } catch (err) {
      throw placementFailure(err, `release the source allocation of migration ${input.migrationId}`);
    }
    return cleanSource(input, judged);
  }

  return { finishMigration, finishOnHosts };
}
