/**
 * The destination XML, built where it is used and never handed to the workflow: the source's
 * migratable XML carries VNC/SPICE passwords, and what the workflow holds lands in Temporal's
 * history. prepareDestination, startMigration and recoverPostcopy each build it the same way (the
 * pure rewrite, from the source's current migratable XML and the destination's facts); the history
 * carries only its fingerprint, so start and recovery can tell whether they rebuilt what was prepared.
 */
import { createHash } from 'node:crypto';
import type { VmFacts } from '../model/activity-contract';
import { describeXmlChange, redactSecrets } from '../model/redact-secrets';
import type { ActivityDeps } from './deps';
import { DomainXmlFlags } from './libvirt';
import { DestinationXmlError, prepareDestinationXml } from './libvirt/dest-xml';
import { refuse } from './refusal';
import { assignDestinationPmem } from './pmem/assign';
import { sourceDomain } from './source-domain';

export interface DestinationXmlTarget {
  vm: VmFacts;
  source: string;
  destination: string;
  /** Keys the vPMEM namespace assignment (activities/pmem/); absent in runs begun before it. */
  migrationId?: string | undefined;
}

export interface BuiltDestinationXml {
  xml: string;
  /** What was rewritten, in words without any secret value. */
  changes: string[];
  fingerprint: string;
}

/** sha256 hex of the XML: says whether two builds are the same without revealing the XML. */
export function destinationXmlFingerprint(xml: string): string {
  return `sha256:${createHash('sha256').update(xml, 'utf8').digest('hex')}`;
}

/** Reads the source's migratable XML and the destination's facts, then rewrites (pure). */
export async function buildDestinationXml(deps: ActivityDeps, t: DestinationXmlTarget): Promise<BuiltDestinationXml> {
  const { c, dom } = await sourceDomain(deps, t.source, t.vm.uuid);
  const xml = await c.domainGetXmlDesc(dom, DomainXmlFlags.Migratable);
  const d = await deps.connections.get(t.destination);
  const node = await d.nodeGetInfo();
  // vPMEM devices get the namespaces assigned to this migration on the destination.
  const pmemAssigned = await assignDestinationPmem(deps, t, xml);
  const facts = {
    hostName: await d.getHostname(),
    migrationAddress: t.destination,
    numaNodes: Array.from({ length: Math.max(1, node.nodes) }, (_, i) => i),
    cpuSet: `0-${Math.max(0, node.cpus - 1)}`,
    ...(pmemAssigned ? { pmemAssigned } : {}),
  };
  try {
    const prepared = prepareDestinationXml(xml, facts);
    return { xml: prepared.xml, changes: prepared.changes.map(describeXmlChange), fingerprint: destinationXmlFingerprint(prepared.xml) };
  } catch (err) {
    // The problems may quote the XML; the refusal goes to the history.
    if (err instanceof DestinationXmlError) throw refuse(redactSecrets(`cannot prepare ${t.vm.name} for ${t.destination}: ${err.message}`));
    throw err;
  }
}

/**
 * The XML to send: the one an older run carried in its input (its retries keep working), else a
 * fresh build that must match the fingerprint recorded at prepare. A mismatch means the source's
 * definition changed since it was prepared (a device hot-plugged, a disk resized): `onMismatch`
 * decides (start refuses, recovery goes on with the fresh build).
 */
export async function destinationXmlFor(
  deps: ActivityDeps,
  input: DestinationXmlTarget & { destXml?: string | undefined; destXmlFingerprint?: string | undefined },
  onMismatch: (built: BuiltDestinationXml, expected: string) => string,
): Promise<string> {
  if (input.destXml) return input.destXml;
  if (!input.destXmlFingerprint) {
    throw refuse(`no destination XML fingerprint for ${input.vm.name}: the workflow must prepare the destination first (a bug in ferry)`);
  }
  const built = await buildDestinationXml(deps, input);
  return built.fingerprint === input.destXmlFingerprint ? built.xml : onMismatch(built, input.destXmlFingerprint);
}
