import type { PrepareInput, PrepareResult } from '../model/activity-contract';
import type { ActivityDeps } from './deps';
import { DomainXmlFlags } from './libvirt';
import { DestinationXmlError, prepareDestinationXml } from './libvirt/dest-xml';
import { refuse } from './refusal';
import { sourceDomain } from './source-domain';

export function prepareActivities(deps: ActivityDeps) {
  /** The destination XML: the source's migratable XML rewritten from facts the destination reports. */
  async function prepareDestination(input: PrepareInput): Promise<PrepareResult> {
    const { c, dom } = await sourceDomain(deps, input.source, input.vm.uuid);
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
  return { prepareDestination };
}
