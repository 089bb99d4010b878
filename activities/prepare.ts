import type { PrepareInput, PrepareResult } from '../model/activity-contract';
import type { ActivityDeps } from './deps';
import { buildDestinationXml } from './destination-xml';

export function prepareActivities(deps: ActivityDeps) {
  /**
   * The destination XML: the source's migratable XML rewritten from facts the destination reports.
   * Returns its fingerprint and the changes, never the XML itself (it carries the console password;
   * start and recovery rebuild it), unless an older run's workflow asks for it (no xmlOutOfHistory).
   */
  async function prepareDestination(input: PrepareInput): Promise<PrepareResult> {
    const built = await buildDestinationXml(deps, input);
    return input.xmlOutOfHistory
      ? { fingerprint: built.fingerprint, changes: built.changes }
      : { destXml: built.xml, fingerprint: built.fingerprint, changes: built.changes };
  }
  return { prepareDestination };
}
