import { ApplicationFailure } from '@temporalio/activity';
import type { ActivityDeps } from './deps';
import { lookupVm } from './domain-facts';
import { MigrateFlags, type DomainRef, type LibvirtClient } from './libvirt';

/** The VM's domain on its source host; a VM that vanished there is a fact no retry changes. */
export async function sourceDomain(deps: ActivityDeps, host: string, vmUuid: string): Promise<{ c: LibvirtClient; dom: DomainRef }> {
  const c = await deps.connections.get(host);
  const dom = await lookupVm(c, vmUuid);
  if (!dom) throw ApplicationFailure.nonRetryable(`VM ${vmUuid} is not defined on ${host}`, 'VmMissing');
  return { c, dom };
}

/**
 * The flags of ferry's peer-to-peer migration. No UNDEFINE_SOURCE: the source keeps its (inactive)
 * definition until finish, so the final statistics stay readable there (COMPLETED|KEEP_COMPLETED)
 * even if the worker missed the job-completed event, and ferry removes it only after both hosts agree.
 */
export function migrationFlags(postcopy: boolean): number {
  return MigrateFlags.Live | MigrateFlags.Peer2Peer | MigrateFlags.PersistDest | (postcopy ? MigrateFlags.Postcopy : 0);
}
