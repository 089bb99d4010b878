/**
 * How a case brings a migration to a phase: the guest and link that make the phase last long
 * enough to hit, the request, and what "reached" means — an activity held at the gate (gate.ts)
 * or a state observed on the hosts (pre-copy with data flowing, the destination running in
 * post-copy). The rollback and recovery phases are reached through their cause (an operator's
 * abort during pre-copy; the migration stream broken during post-copy) and then held at the gate.
 */
import { execFileSync } from 'node:child_process';
import { LibvirtClient } from '../../../activities/libvirt';
import type { FerryClient } from '../../../client/ferry-client';
import { hostUri } from '../../../lab/hosts';
import { waitFor } from '../../../lab/proc';
import type { LabHost } from '../../../lab/state';
import type { Phase } from './cells';
import type { GateHold } from './gate';

export interface Stage {
  guest: { memoryMiB: number; rateMiBps: number | 'max'; wssMiB?: number };
  /** tc cap on the source host's link (Mbit/s), so the phase lasts seconds. */
  linkMbps: number | null;
  request: { bandwidthMiBps?: number; policy?: Record<string, unknown> };
  /** The activity held at the gate (omitted: the phase is reached by observation only). */
  gate?: Omit<GateHold, 'workflowId'>;
  /** What happens before the gate (or instead of it). */
  reach: 'gate' | 'precopy-flowing' | 'destination-in-postcopy' | 'abort-in-precopy' | 'break-postcopy';
}

const QUICK = { memoryMiB: 128, rateMiBps: 4, wssMiB: 32 } as const;
/** Dirtying 4 MiB/s of a 64 MiB working set against an 8 MiB/s cap: ~10-20 s of pre-copy. */
const SLOW_PRECOPY: Pick<Stage, 'guest' | 'linkMbps' | 'request'> = {
  guest: { memoryMiB: 128, rateMiBps: 4, wssMiB: 64 },
  linkMbps: null,
  request: { bandwidthMiBps: 8, policy: { postcopy: { allowed: false } } },
};
/** Dirtying at full speed: pre-copy never converges, ferry switches to post-copy after the first pass. */
const POSTCOPY = (linkMbps: number): Pick<Stage, 'guest' | 'linkMbps' | 'request'> => ({
  guest: { memoryMiB: 128, rateMiBps: 'max' },
  linkMbps,
  request: {},
});

export const STAGES: Record<Phase, Stage> = {
  'pre-checks': { guest: QUICK, linkMbps: null, request: {}, gate: { activity: 'checkDestination' }, reach: 'gate' },
  claim: { guest: QUICK, linkMbps: null, request: {}, gate: { activity: 'claim' }, reach: 'gate' },
  prepare: { guest: QUICK, linkMbps: null, request: {}, gate: { activity: 'prepareDestination' }, reach: 'gate' },
  'pre-copy': { ...SLOW_PRECOPY, reach: 'precopy-flowing' },
  'switch-over': { ...POSTCOPY(100), gate: { activity: 'applyAction', actionKind: 'start-postcopy' }, reach: 'gate' },
  'post-copy': { ...POSTCOPY(50), reach: 'destination-in-postcopy' },
  finish: { guest: QUICK, linkMbps: null, request: {}, gate: { activity: 'finishOnHosts' }, reach: 'gate' },
  rollback: { ...SLOW_PRECOPY, gate: { activity: 'rollbackMigration' }, reach: 'abort-in-precopy' },
  recovery: { ...POSTCOPY(100), gate: { activity: 'recoverPostcopy' }, reach: 'break-postcopy' },
};

export async function waitPrecopyFlowing(client: FerryClient, workflowId: string): Promise<void> {
  await waitFor('pre-copy with data flowing', async () => {
    const p = await client.progress(workflowId).catch(() => undefined);
    return p?.phase === 'pre-copy' && p.dataTotal > 0 && p.dataTotal - p.dataRemaining > 8 * 1024 * 1024;
  }, { timeoutMs: 180_000, intervalMs: 200 });
}

/**
 * Post-copy has begun only once the destination RUNS in post-copy (model/postcopy-recovery.ts):
 * watched on the destination host itself.
 */
export async function waitDestinationInPostcopy(destination: string, vmUuid: string): Promise<void> {
  const dst = await LibvirtClient.connect({ uri: hostUri(destination) });
  try {
    await waitFor('the destination running in post-copy', async () => {
      const dom = await dst.lookupDomainByUuid(vmUuid).catch(() => undefined);
      const st = dom && (await dst.domainGetState(dom).catch(() => undefined));
      return st?.stateName === 'running' && st.reasonName === 'Postcopy';
    }, { timeoutMs: 180_000, intervalMs: 20 });
  } finally {
    await dst.close().catch(() => undefined);
  }
}

/** Breaks the post-copy stream: every TCP connection from the source to the destination's migration ports. */
export function breakMigrationStream(source: LabHost, destination: LabHost): void {
  execFileSync('ip', ['netns', 'exec', source.netns, 'ss', '-K', 'dst', destination.address, 'dport', '>=', '49152']);
}
