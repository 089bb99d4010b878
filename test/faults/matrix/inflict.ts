/**
 * Each fault of the matrix as an effect on the lab, through the lab's own fault functions
 * (lab/faults.ts) and the matrix's workers. `inflict` puts the fault in place while the migration
 * is held at its phase; `meanwhile` runs once the migration goes on (a restart after a delay, a
 * heal after N s); `operator` is what an operator would do if ferry escalated (or waited) on a
 * fault that never heals by itself. Competing migrations are not inflicted: runner.ts stages them.
 */
import { LAB_PROJECT_ID, LAB_USER_ID } from '../../../lab/vms';
import { cutLink, killDaemon, restartDaemon, restoreLink, startService, stopService } from '../../../lab/faults';
import { sleep, waitFor } from '../../../lab/proc';
import type { LabHost } from '../../../lab/state';
import type { FerryClient } from '../../../client/ferry-client';
import { placementClient } from '../../integration/support/lab-processes';
import type { Fault } from './cells';
import type { WorkerPool } from './workers';

export interface FaultTarget {
  workflowId: string;
  vm: { name: string; uuid: string };
  source: LabHost;
  destination: LabHost;
  /** The worker holding the gated activity (its pid), when the phase has a gate. */
  holderPid?: number;
}

export interface Inflicted {
  /** What was done, in words. */
  what: string;
  meanwhile: Promise<string>;
  /** An operator's repair once ferry waits or escalates on it (the link cut for good). */
  operator?: () => Promise<string>;
}

export interface FaultEnv {
  client: FerryClient;
  workers: WorkerPool;
}

export const LINK_RESTORED_AFTER_MS = 15_000;
export const PLACEMENT_DOWN_MS = 20_000;
export const WORKER_RESTART_DELAY_MS = 30_000;

const done = (s: string) => Promise.resolve(s);

/**
 * The worker running the migration's activity now: the gate's holder, else the one Temporal names
 * for a pending activity (between two watch rounds none is pending for a moment: look again).
 */
async function workerDoingIt(env: FaultEnv, t: FaultTarget): Promise<number> {
  if (t.holderPid !== undefined) return t.holderPid;
  return waitFor(`a worker of ours running an activity of ${t.workflowId}`, () => env.workers.busyPid(env.client, t.workflowId), {
    timeoutMs: 30_000, intervalMs: 100,
  });
}

export async function inflict(fault: Exclude<Fault, 'competing'>, env: FaultEnv, t: FaultTarget): Promise<Inflicted> {
  switch (fault) {
    case 'worker-kill': {
      const pid = await workerDoingIt(env, t);
      await env.workers.kill(pid);
      const w = await env.workers.startOne();
      return { what: `worker ${pid} SIGKILLed, worker ${w.child.pid} started`, meanwhile: done('') };
    }
    case 'worker-kill-30s': {
      const pid = await workerDoingIt(env, t);
      await env.workers.kill(pid);
      const meanwhile = (async () => {
        await sleep(WORKER_RESTART_DELAY_MS);
        const w = await env.workers.startOne();
        return `worker ${w.child.pid} started ${WORKER_RESTART_DELAY_MS / 1000} s later`;
      })();
      return { what: `worker ${pid} SIGKILLed`, meanwhile };
    }
    case 'second-worker': {
      const pid = await workerDoingIt(env, t);
      await env.workers.kill(pid);
      return { what: `worker ${pid} SIGKILLed; the other worker goes on`, meanwhile: done('') };
    }
    case 'temporal-restart': {
      await stopService('temporal');
      const meanwhile = (async () => {
        await sleep(5_000);
        const e = await startService('temporal');
        return `Temporal ${e.detail}`;
      })();
      return { what: 'Temporal SIGKILLed (restarted 5 s later)', meanwhile };
    }
    case 'libvirtd-source':
    case 'libvirtd-destination': {
      const host = fault === 'libvirtd-source' ? t.source : t.destination;
      const e = await killDaemon(host.name, 'libvirtd');
      const meanwhile = (async () => {
        await sleep(2_000);
        return `libvirtd of ${host.name} ${(await restartDaemon(host.name, 'libvirtd')).detail}`;
      })();
      return { what: `libvirtd of ${host.name}: ${e.detail} (restarted 2 s later)`, meanwhile };
    }
    case 'link-cut-restored': {
      await cutLink(t.source.name, t.destination.name);
      const meanwhile = (async () => {
        await sleep(LINK_RESTORED_AFTER_MS);
        await restoreLink(t.source.name, t.destination.name);
        return `link restored after ${LINK_RESTORED_AFTER_MS / 1000} s`;
      })();
      return { what: `link ${t.source.name} <-> ${t.destination.name} cut`, meanwhile };
    }
    case 'link-cut-never': {
      await cutLink(t.source.name, t.destination.name);
      return {
        what: `link ${t.source.name} <-> ${t.destination.name} cut for good`,
        meanwhile: done(''),
        operator: async () => {
          await restoreLink(t.source.name, t.destination.name);
          return 'operator restored the link';
        },
      };
    }
    case 'placement-down': {
      await stopService('placement');
      const meanwhile = (async () => {
        await sleep(PLACEMENT_DOWN_MS);
        await startService('placement');
        return `Placement back after ${PLACEMENT_DOWN_MS / 1000} s`;
      })();
      return { what: `Placement SIGKILLed (back ${PLACEMENT_DOWN_MS / 1000} s later)`, meanwhile };
    }
    case 'generation-bump': {
      const p = await placementClient();
      const cur = await p.getAllocations(t.vm.uuid);
      await p.putAllocations(t.vm.uuid, {
        allocations: cur.allocations,
        projectId: cur.projectId ?? LAB_PROJECT_ID,
        userId: cur.userId ?? LAB_USER_ID,
        consumerGeneration: cur.consumerGeneration,
      });
      const after = await p.getAllocations(t.vm.uuid);
      return { what: `VM consumer rewritten: generation ${cur.consumerGeneration} -> ${after.consumerGeneration}`, meanwhile: done('') };
    }
    case 'operator-abort': {
      const r = await env.client.abort(t.workflowId, 'fault matrix: operator abort').then(
        (x) => `accepted (${JSON.stringify(x).slice(0, 80)})`,
        (err: Error) => `refused: ${err.message}`,
      );
      return { what: `abort ${r}`, meanwhile: done('') };
    }
  }
}
