import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/activity';
import type { FinishInput, FinishResult, RollbackInput, RollbackResult, HostDomainView } from '../model/activity-contract';
import type { ActivityDeps } from './deps';
import { lookupVm } from './domain-facts';
import { hostView } from './host-view';
import { dropMigrationAllocation, revertMigrationAllocation } from './placement';
import { classifySituation, describeHost, jobViewOf, type FinishedJob } from '../model/situation';

/** The two ends of a migration: finish (both hosts agree it moved) and roll back (it did not). */


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
   * Then: final statistics from the source's completed job, the migration consumer's allocation
   * dropped, the source's inactive definition removed. Idempotent.
   */
  async function finishMigration(input: FinishInput): Promise<FinishResult> {
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
    await dropMigrationAllocation(deps.placement, input.migrationId);
    if (src.domain !== 'none') {
      const c = await deps.connections.get(input.source);
      const dom = await lookupVm(c, input.vm.uuid);
      if (dom) await c.domainUndefine(dom).catch(() => undefined); // the inactive source definition
    }
    const after = await hostView(deps, input.source, input.vm.uuid);
    return { stats, hosts: { source: describeHost(after), destination: describeHost(dst) } };
  }

  /**
   * Before the switch-over only: abort the job, make sure the VM runs on the source, remove what
   * was created on the destination, move the allocations back. Never touches a destination that
   * runs the VM while the source does not (that is not a rollback situation).
   */
  async function rollbackMigration(input: RollbackInput): Promise<RollbackResult> {
    const steps: string[] = [];
    const c = await deps.connections.get(input.source);
    const dom = await lookupVm(c, input.vm.uuid);
    if (!dom) throw ApplicationFailure.nonRetryable(`cannot roll back: ${input.vm.name} is not defined on ${input.source}`, 'VmMissing');
    if ((await c.domainGetJobStats(dom)).typeName === 'Unbounded') {
      await c.domainAbortJob(dom).catch(() => undefined);
      steps.push('aborted the migration job');
      for (let i = 0; i < 100 && (await c.domainGetJobStats(dom)).typeName === 'Unbounded'; i++) await sleep(200);
    }
    let st = await c.domainGetState(dom);
    if (st.stateName === 'paused' && (input.resumeIfPaused || st.reasonName === 'Migration')) {
      await c.domainResume(dom);
      steps.push('resumed the guest on the source');
      st = await c.domainGetState(dom);
    }
    if (st.stateName !== 'running' && st.stateName !== 'paused') {
      throw ApplicationFailure.nonRetryable(`${input.vm.name} is ${st.stateName} (${st.reasonName}) on ${input.source}: not rolling back blindly`, 'RollbackUnsafe');
    }
    if (input.destination) {
      const d = await deps.connections.get(input.destination);
      const ddom = await lookupVm(d, input.vm.uuid);
      if (ddom) {
        const dst = await d.domainGetState(ddom);
        if (dst.stateName === 'running' || dst.stateName === 'paused') {
          await d.domainDestroy(ddom).catch(() => undefined);
          steps.push(`destroyed the incoming domain on ${input.destination}`);
        }
        await d.domainUndefine(ddom).catch(() => undefined);
        steps.push(`removed the definition on ${input.destination}`);
      }
    }
    const reverted = await revertMigrationAllocation(deps.placement, input.migrationId, input.vm.uuid);
    steps.push(`allocations: ${reverted.outcome}`);
    const hosts = {
      source: describeHost(await hostView(deps, input.source, input.vm.uuid)),
      destination: input.destination ? describeHost(await hostView(deps, input.destination, input.vm.uuid)) : 'n/a',
    };
    return { hosts, steps };
  }

  return { finishMigration, rollbackMigration };
}
