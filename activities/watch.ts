import { heartbeat } from '@temporalio/activity';
import type { MigrationSample, WatchInput } from '../model/activity-contract';
import { isDecisionPoint, toMigrationSample } from '../model/observation';
import type { ActivityDeps } from './deps';
import { lookupVm } from './domain-facts';
import { hostView } from './host-view';
import type { JobStats } from './libvirt';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The watch: what the migration job does, reported at each decision point. */
export function watchActivities(deps: ActivityDeps) {
  /**
   * Watches the job on the source and returns at the next decision point: a new iteration, a
   * change of mode, the end of the job, or maxWaitMs. Heartbeats progress all along.
   */
  async function watchMigration(input: WatchInput): Promise<MigrationSample> {
    const pollMs = deps.pollMs ?? 500;
    const started = Date.now();
    for (;;) {
      const sample = await sampleOnce(input);
      heartbeat(sample);
      if (isDecisionPoint(sample, input, Date.now() - started)) return sample;
      await sleep(pollMs);
    }
  }

  async function sampleOnce(input: WatchInput): Promise<MigrationSample> {
    const [source, destination] = await Promise.all([
      hostView(deps, input.source, input.vm.uuid),
      hostView(deps, input.destination, input.vm.uuid),
    ]);
    let stats: JobStats | undefined;
    if (source.reachable && typeof source.domain === 'object' && source.domain.state !== 'shutoff') {
      const c = await deps.connections.get(input.source);
      const dom = await lookupVm(c, input.vm.uuid);
      stats = dom ? await c.domainGetJobStats(dom).catch(() => undefined) : undefined;
    }
    return toMigrationSample(source, destination, stats && { ...stats, active: stats.typeName === 'Unbounded' }, input.lastMode);
  }

  return { watchMigration };
}
