import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import { PLACEMENT_WAIT_FAILURES, type RollbackInput, type RollbackResult } from '../model/activity-contract';
import { describeHost } from '../model/situation';
import type { ActivityDeps } from './deps';
import { lookupVm } from './domain-facts';
import { guarded, observeBoth, type Guarded, type Target } from './guard';
import { placementFailure } from './claims';
import { revertMigrationAllocation } from './placement';
import { removeCreatedVolumes } from './storage/volumes';

/** How long one attempt waits for a switch-over or an unclear picture to settle before it is retried. */
const SETTLE_WITHIN_MS = 60_000;

/**
 * Roll back — only where the situation table says the guest is (still) on the source. Each
 * destructive act goes through the guard, which observes both hosts first: abort the job while
 * pre-copy runs, then (guest on the source, job over) resume a guest the migration left paused,
 * remove the destination's leftover, move the allocations back. Anywhere else (the guest switched
 * over, post-copy began, split brain, VM lost) nothing is touched: the result says where the guest
 * is and what the workflow should do instead. Idempotent: a retry observes again.
 */
export function rollbackActivities(deps: ActivityDeps) {
  async function rollbackMigration(input: RollbackInput): Promise<RollbackResult> {
    const t: Target = { vmUuid: input.vm.uuid, source: input.source, destination: input.destination };
    const steps: string[] = [];
    const deadline = Date.now() + SETTLE_WITHIN_MS;
    for (;;) {
      heartbeat(steps);
      const o = await observeBoth(deps, t);
      const { situation, explanation, next } = o.where;
      if (situation === 'precopy-in-progress') {
        const r = await guarded(deps, t, 'abort-job', async () => abortJob(input.source, input.vm.uuid));
        steps.push(r.done ? 'aborted the migration job' : r.refusal.why);
        await sleep(300);
        continue;
      }
      if (situation === 'switchover-in-progress' || situation === 'unknown') {
        // Neither a rollback nor a finish yet: look again; past the deadline the attempt fails
        // (retryable) and the patient retry policy brings it back.
        if (Date.now() > deadline) throw ApplicationFailure.retryable(`roll-back waits: ${explanation}`, 'NotYet');
        await sleep(1_000);
        continue;
      }
      if (situation !== 'not-started-or-rolled-back') {
        return { outcome: 'refused', situation, next, explanation, steps: [...steps, `not rolled back: ${explanation}`], hosts: hostsOf(o) };
      }
      const placementWait = await undo(input, t, steps);
      return {
        outcome: 'rolled-back', situation, next, explanation, steps, hosts: hostsOf(await observeBoth(deps, t)),
        ...(placementWait !== undefined ? { placementWait } : {}),
      };
    }
  }

  /**
   * The guest is on the source and no job runs: undo what the migration left, each act guarded.
   * Returns Placement's error when the allocations wait for Placement (placementOutage 'report').
   */
  async function undo(input: RollbackInput, t: Target, steps: string[]): Promise<string | undefined> {
    const note = (r: Guarded<string | null>) => {
      if (!r.done) steps.push(r.refusal.why);
      else if (r.result) steps.push(r.result);
    };
    note(await guarded(deps, t, 'resume-source', async (o) => {
      const d = o.source.domain;
      if (d === 'none' || d.state !== 'paused') return null;
      // Ours to resume: the guest ferry paused (pause fallback), or the switch-over's own pause.
      if (!input.resumeIfPaused && d.reason !== 'Migration') return `left the guest paused on ${input.source} (${d.reason}): ferry did not pause it`;
      const c = await deps.connections.get(input.source);
      const dom = await lookupVm(c, input.vm.uuid);
      if (dom) await c.domainResume(dom);
      return `resumed the guest on ${input.source}`;
    }));
    if (input.destination !== null) {
      const destination = input.destination;
      note(await guarded(deps, t, 'clean-destination', async (o) => {
        if (o.destination === null || o.destination.domain === 'none') return null;
        const c = await deps.connections.get(destination);
        const dom = await lookupVm(c, input.vm.uuid);
        if (!dom) return null;
        if (o.destination.domain.state !== 'shutoff') await c.domainDestroy(dom).catch(() => undefined);
        await c.domainUndefine(dom).catch(() => undefined);
        return `removed the incoming domain on ${destination}`;
      }));
      const copies = input.diskCopies ?? [];
      if (copies.length) {
        // After the incoming domain: its QEMU held the volumes. Only volumes this migration created go (their markers say which).
        note(await guarded(deps, t, 'clean-destination', async (o) => {
          if (o.destination !== null && o.destination.domain !== 'none' && o.destination.domain.state !== 'shutoff') {
            throw ApplicationFailure.retryable(`the incoming domain on ${destination} still runs: its volumes are not removed yet`, 'NotYet');
          }
          const removed = await removeCreatedVolumes(await deps.connections.get(destination), input.migrationId, copies);
          return removed.length ? removed.join('; ') : null;
        }));
      }
    }
    let placementWait: string | undefined;
    note(await guarded(deps, t, 'revert-allocation', async () => {
      try {
        const reverted = await revertMigrationAllocation(deps.placement, input.migrationId, input.vm.uuid);
        return `allocations: ${reverted.outcome}`;
      } catch (err) {
        // A Placement outage: reported to the workflow, which waits for Placement and shows it
        // ('report'), or the attempt fails retryable and the patient retry policy waits it out.
        const failure = placementFailure(err, 'moving the allocations back');
        if (input.placementOutage === 'report' && failure instanceof ApplicationFailure && isPlacementWait(failure)) {
          placementWait = failure.message;
          return 'allocations: not moved back yet, waiting for Placement';
        }
        throw failure;
      }
    }));
    return placementWait;
  }

  async function abortJob(host: string, vmUuid: string): Promise<void> {
    const c = await deps.connections.get(host);
    const dom = await lookupVm(c, vmUuid);
    if (dom) await c.domainAbortJob(dom).catch(() => undefined); // the job may have ended meanwhile: the next look tells
  }

  return { rollbackMigration };
}

function isPlacementWait(f: ApplicationFailure): boolean {
  return f.type !== undefined && f.type !== null && (PLACEMENT_WAIT_FAILURES as readonly string[]).includes(f.type);
}

function hostsOf(o: { source: Parameters<typeof describeHost>[0]; destination: Parameters<typeof describeHost>[0] }) {
  return { source: describeHost(o.source), destination: o.destination === null ? 'n/a' : describeHost(o.destination) };
}
