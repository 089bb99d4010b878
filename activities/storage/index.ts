/** The storage activities: the disks' facts before anything moves, the destination volumes before the start. */
import type { CheckStorageInput, DestinationVolumesInput, DestinationVolumesResult } from '../../model/storage/activity-io';
import type { StorageFacts } from '../../model/storage/facts';
import type { ActivityDeps } from '../deps';
import { DomainXmlFlags } from '../libvirt';
import { refuse } from '../refusal';
import { sourceDomain } from '../source-domain';
import { disksOfXml } from './disks-in-xml';
import { storageFacts } from './facts';
import { createDestinationVolumes, ExistingVolumeError } from './volumes';

export function storageActivities(deps: ActivityDeps) {
  /** Reads both hosts' pools and volumes and probes each disk directory for shared storage; creates nothing that outlives it. */
  async function checkStorage(input: CheckStorageInput): Promise<StorageFacts> {
    const { c: src, dom } = await sourceDomain(deps, input.source, input.vm.uuid);
    const xml = await src.domainGetXmlDesc(dom, DomainXmlFlags.Migratable);
    const disks = disksOfXml(xml);
    if (disks.length === 0) return { disks: [] };
    let dst;
    try {
      dst = await deps.connections.get(input.destination);
    } catch (err) {
      throw refuse(`destination ${input.destination} cannot be reached: ${(err as Error).message}`);
    }
    return storageFacts(src, dst, disks, input.probeId);
  }

  async function createDestinationVolumesActivity(input: DestinationVolumesInput): Promise<DestinationVolumesResult> {
    const c = await deps.connections.get(input.destination);
    try {
      return { steps: await createDestinationVolumes(c, input.migrationId, input.copies) };
    } catch (err) {
      if (err instanceof ExistingVolumeError) throw refuse(err.message);
      throw err;
    }
  }

  return { checkStorage, createDestinationVolumes: createDestinationVolumesActivity };
}
