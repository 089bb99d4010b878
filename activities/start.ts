import { setTimeout as sleep } from 'node:timers/promises';
import { heartbeat, log } from '@temporalio/activity';
import type { StartInput, StartResult } from '../model/activity-contract';
import { redactSecrets } from '../model/redact-secrets';
import { classifySituation, jobViewOf } from '../model/situation';
import type { ActivityDeps } from './deps';
import { hostView } from './host-view';
import { destinationXmlFor } from './destination-xml';
import { buildMigrationParams, isLibvirtError, MigrateFlags } from './libvirt';
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

    // Rebuilt here, not carried by the workflow (it would put the console password in the history).
    // A different build than the one prepared means the source's definition changed since: refused,
    // not sent, since nobody saw what the destination would run; the rollback undoes the claim and
    // migrating again prepares from the new definition.
    const destXml = await destinationXmlFor(deps, input, (built, expected) => {
      throw refuse(
        `the destination XML of ${input.vm.name} rebuilt for the start (${built.fingerprint}) is not the one prepared (${expected}): ` +
          `its definition on ${input.source} changed since; migrate again to prepare it anew`,
        undefined, 'DestinationXmlChanged',
      );
    });
    const migrationUri = deps.inventory.get(input.destination).migrationUri;
    const params = buildMigrationParams({
      ...(migrationUri ? { uri: migrationUri } : {}),
      destXml,
      persistXml: destXml,
      ...(input.bandwidthMiBps ? { bandwidthMiBs: input.bandwidthMiBps } : {}),
      ...(input.dataPath?.parallelConnections ? { parallelConnections: input.dataPath.parallelConnections } : {}),
      ...(input.dataPath?.switchoverBandwidthMiBps ? { availableSwitchoverBandwidthMiBs: input.dataPath.switchoverBandwidthMiBps } : {}),
      // Block migration: only the disks the plan copies. Their NBD stream goes to the host of the
      // migration URI (the destination's migration network), as the memory stream does.
      ...(input.migrateDisks?.length ? { migrateDisks: input.migrateDisks } : {}),
    });
    const flags = migrationFlags(input.postcopy) | (input.dataPath?.parallelConnections ? MigrateFlags.Parallel : 0)
      | (input.dataPath?.tls ? MigrateFlags.Tls : 0) | (input.migrateDisks?.length ? MigrateFlags.NonSharedDisk : 0)
      | (input.sharedDisksVouched?.length ? MigrateFlags.Unsafe : 0);
    let failure: Error | undefined;
    deps.connections.clearMigrateError(input.vm.uuid);
    // Not awaited: the call returns when the migration ends, which the watch activity observes.
    // The source daemon owns the job; this worker dying does not stop it (field notes).
    c.domainMigratePerform3Params(dom, { dconnuri: deps.inventory.get(input.destination).peerUri, params, flags })
      .catch((err: Error) => {
        failure = err;
        // Both reach the history or the log: libvirt's message may quote the XML.
        deps.connections.recordMigrateError(input.vm.uuid, redactSecrets(err.message));
        log.info('migrate call ended with an error', { vm: input.vm.name, error: redactSecrets(err.message) });
      });
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (failure) {
        throw isLibvirtError(failure)
          ? refuse(`libvirt refused the migration of ${input.vm.name} to ${input.destination}: ${redactSecrets(failure.message)}`)
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
