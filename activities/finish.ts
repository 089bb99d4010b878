import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/activity';
import type { FinishInput, FinishResult, HostDomainView } from '../model/activity-contract';
import type { ActivityDeps } from './deps';
import { lookupVm } from './domain-facts';
import { hostView } from './host-view';
import { placementFailure } from './claims';
import { dropMigrationAllocation } from './placement';
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

  /** The source's inactive definition removed (the final figures have been read by then). */
  async function cleanSource(input: FinishInput, judged: Awaited<ReturnType<typeof judgeFinished>>): Promise<FinishResult> {
    if (judged.src.domain !== 'none') {
      const c = await deps.connections.get(input.source);
      const dom = await lookupVm(c, input.vm.uuid);
      if (dom) await c.domainUndefine(dom).catch(() => undefined); // the inactive source definition
    }
    const after = await hostView(deps, input.source, input.vm.uuid);
    return { stats: judged.stats, hosts: { source: describeHost(after), destination: describeHost(judged.dst) } };
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
