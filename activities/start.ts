import { setTimeout as sleep } from 'node:timers/promises';
import { heartbeat, log } from '@temporalio/activity';
import type { StartInput, StartResult } from '../model/activity-contract';
import { classifySituation, jobViewOf } from '../model/situation';
import type { ActivityDeps } from './deps';
import { hostView } from './host-view';
import { buildMigrationParams, isLibvirtError } from './libvirt';
import { refuse } from './refusal';
import { migrationFlags, sourceDomain } from './source-domain';

export function startActivities(deps: ActivityDeps) {
  /** Starts the peer-to-peer job and returns once it runs. A retry finds the job instead of starting a second one. */
  async function startMigration(input: StartInput): Promise<StartResult> {
    const dst = await hostView(deps, input.destination, input.vm.uuid);
    const src = await hostView(deps, input.source, input.vm.uuid);
    const where = classifySituation(src, dst, jobViewOf(src, dst)).next;
    if (where === 'finish' || where === 'finish-on-source') return { outcome: 'already-done' };
    const { c, dom } = await sourceDomain(deps, input.source, input.vm.uuid);
    if ((await c.domainGetJobStats(dom)).typeName === 'Unbounded') return { outcome: 'already-running' };

    const migrationUri = deps.inventory.get(input.destination).migrationUri;
    const params = buildMigrationParams({
      ...(migrationUri ? { uri: migrationUri } : {}),
      destXml: input.destXml,
      persistXml: input.destXml,
      ...(input.bandwidthMiBps ? { bandwidthMiBs: input.bandwidthMiBps } : {}),
    });
    let failure: Error | undefined;
    deps.connections.clearMigrateError(input.vm.uuid);
    // Not awaited: the call returns when the migration ends, which the watch activity observes.
    // The source daemon owns the job; this worker dying does not stop it (field notes).
    c.domainMigratePerform3Params(dom, { dconnuri: deps.inventory.get(input.destination).peerUri, params, flags: migrationFlags(input.postcopy) })
      .catch((err: Error) => {
        failure = err;
        deps.connections.recordMigrateError(input.vm.uuid, err.message);
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
  return { startMigration };
}
