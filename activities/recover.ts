import type { RecoverInput } from '../model/activity-contract';
import type { ActivityDeps } from './deps';
import { MigrateFlags, buildMigrationParams } from './libvirt';
import { migrationFlags, sourceDomain } from './source-domain';

export function recoverActivities(deps: ActivityDeps) {
  /** A broken post-copy is resumed, never destroyed: repeat the migration with POSTCOPY_RESUME. */
  async function recoverPostcopy(input: RecoverInput): Promise<string> {
    const { c, dom } = await sourceDomain(deps, input.source, input.vm.uuid);
    const params = buildMigrationParams({ destXml: input.destXml, persistXml: input.destXml });
    await c.domainMigratePerform3Params(dom, {
      dconnuri: deps.inventory.get(input.destination).peerUri,
      params,
      flags: migrationFlags(true) | MigrateFlags.PostcopyResume,
      timeoutMs: 10 * 60_000,
    });
    return 'post-copy resumed';
  }
  return { recoverPostcopy };
}
