import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure, heartbeat, log } from '@temporalio/activity';
import { hostView } from './host-view';
import type {
  ApplyActionInput, PrepareInput, PrepareResult, RecoverInput, StartInput, StartResult,
} from '../model/activity-contract';
import type { ActivityDeps } from './deps';
import { lookupVm } from './domain-facts';
import {
  DomainXmlFlags, ErrorCode, MigrateFlags, MigrateMaxSpeedFlags, buildMigrationParams, isLibvirtError,
  type DomainRef, type LibvirtClient,
} from './libvirt';
import { DestinationXmlError, prepareDestinationXml } from './libvirt/dest-xml';
import { refuse } from './refusal';
import { classifySituation, jobViewOf } from '../model/situation';

/** The migration job itself: prepare, start and steer it (the watch is in watch.ts). Thin adapters that report facts. */


function migrationFlags(postcopy: boolean): number {
  // No UNDEFINE_SOURCE: the source keeps its (inactive) definition until finish, so the final
  // statistics stay readable there (COMPLETED|KEEP_COMPLETED) even if the worker missed the
  // job-completed event, and ferry removes it only after both hosts agree.
  return MigrateFlags.Live | MigrateFlags.Peer2Peer | MigrateFlags.PersistDest | (postcopy ? MigrateFlags.Postcopy : 0);
}

export function migrationJobActivities(deps: ActivityDeps) {
  async function sourceDomain(host: string, vmUuid: string): Promise<{ c: LibvirtClient; dom: DomainRef }> {
    const c = await deps.connections.get(host);
    const dom = await lookupVm(c, vmUuid);
    if (!dom) throw ApplicationFailure.nonRetryable(`VM ${vmUuid} is not defined on ${host}`, 'VmMissing');
    return { c, dom };
  }

  /** The destination XML: the source's migratable XML rewritten from facts the destination reports. */
  async function prepareDestination(input: PrepareInput): Promise<PrepareResult> {
    const { c, dom } = await sourceDomain(input.source, input.vm.uuid);
    const xml = await c.domainGetXmlDesc(dom, DomainXmlFlags.Migratable);
    const d = await deps.connections.get(input.destination);
    const node = await d.nodeGetInfo();
    const facts = {
      hostName: await d.getHostname(),
      migrationAddress: input.destination,
      numaNodes: Array.from({ length: Math.max(1, node.nodes) }, (_, i) => i),
      cpuSet: `0-${Math.max(0, node.cpus - 1)}`,
    };
    try {
      const prepared = prepareDestinationXml(xml, facts);
      return { destXml: prepared.xml, changes: prepared.changes.map((ch) => `${ch.path}: ${ch.from} -> ${ch.to} (${ch.why})`) };
    } catch (err) {
      if (err instanceof DestinationXmlError) throw refuse(`cannot prepare ${input.vm.name} for ${input.destination}: ${err.message}`);
      throw err;
    }
  }

  /** Starts the peer-to-peer job and returns once it runs. A retry finds the job instead of starting a second one. */
  async function startMigration(input: StartInput): Promise<StartResult> {
    const dst = await hostView(deps, input.destination, input.vm.uuid);
    const src = await hostView(deps, input.source, input.vm.uuid);
    const where = classifySituation(src, dst, jobViewOf(src, dst)).next;
    if (where === 'finish' || where === 'finish-on-source') return { outcome: 'already-done' };
    const { c, dom } = await sourceDomain(input.source, input.vm.uuid);
    if ((await c.domainGetJobStats(dom)).typeName === 'Unbounded') return { outcome: 'already-running' };

    const params = buildMigrationParams({
      destXml: input.destXml,
      persistXml: input.destXml,
      ...(input.bandwidthMiBps ? { bandwidthMiBs: input.bandwidthMiBps } : {}),
    });
    let failure: Error | undefined;
    // Not awaited: the call returns when the migration ends, which the watch activity observes.
    // The source daemon owns the job; this worker dying does not stop it (field notes).
    c.domainMigratePerform3Params(dom, { dconnuri: deps.inventory.get(input.destination).peerUri, params, flags: migrationFlags(input.postcopy) })
      .catch((err: Error) => {
        failure = err;
        log.info('migrate call ended with an error', { vm: input.vm.name, error: err.message });
      });
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (failure) {
        throw isLibvirtError(failure)
          ? refuse(`libvirt refused the migration of ${input.vm.name} to ${input.destination}: ${failure.message}`)
          : failure;
      }
      const stats = await c.domainGetJobStats(dom).catch(() => undefined);
      if (stats?.typeName === 'Unbounded') {
        if (input.initialMaxDowntimeMs) await c.domainMigrateSetMaxDowntime(dom, input.initialMaxDowntimeMs).catch(() => undefined);
        return { outcome: 'started' };
      }
      heartbeat();
      await sleep(100);
    }
    throw new Error(`the migration job of ${input.vm.name} did not start within 60 s`);
  }

  async function applyAction(input: ApplyActionInput): Promise<string> {
    const { c, dom } = await sourceDomain(input.source, input.vm.uuid);
    const a = input.action;
    try {
      switch (a.kind) {
        case 'set-max-downtime':
          await c.domainMigrateSetMaxDowntime(dom, a.ms);
          return `max downtime set to ${a.ms} ms`;
        case 'set-bandwidth':
          await c.domainMigrateSetMaxSpeed(dom, a.mibps);
          await c.domainMigrateSetMaxSpeed(dom, a.mibps, MigrateMaxSpeedFlags.Postcopy).catch(() => undefined);
          return `bandwidth set to ${a.mibps} MiB/s`;
        case 'start-postcopy':
          await c.domainMigrateStartPostCopy(dom);
          return 'switch to post-copy requested';
        case 'pause':
          await c.domainSuspend(dom);
          return 'guest paused: pre-copy finishes with the vCPUs stopped';
        case 'abort':
          await c.domainAbortJob(dom);
          return 'job aborted';
        case 'resume-and-abort': {
          await c.domainAbortJob(dom).catch(() => undefined);
          const st = await c.domainGetState(dom);
          if (st.stateName === 'paused') await c.domainResume(dom);
          return 'job aborted and the guest resumed on the source';
        }
      }
    } catch (err) {
      // The job may have ended between the decision and the call: report it, the watch sees why.
      if (isLibvirtError(err, ErrorCode.OperationInvalid)) return `not applied: ${(err as Error).message}`;
      throw err;
    }
  }

  /** A broken post-copy is resumed, never destroyed: repeat the migration with POSTCOPY_RESUME. */
  async function recoverPostcopy(input: RecoverInput): Promise<string> {
    const { c, dom } = await sourceDomain(input.source, input.vm.uuid);
    const params = buildMigrationParams({ destXml: input.destXml, persistXml: input.destXml });
    await c.domainMigratePerform3Params(dom, {
      dconnuri: deps.inventory.get(input.destination).peerUri,
      params,
      flags: migrationFlags(true) | MigrateFlags.PostcopyResume,
      timeoutMs: 10 * 60_000,
    });
    return 'post-copy resumed';
  }

  return { prepareDestination, startMigration, applyAction, recoverPostcopy };
}
