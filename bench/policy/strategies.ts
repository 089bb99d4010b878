/**
 * PURE: the convergence policies of the anchors, each written as the system itself drives libvirt
 * (shared/anchors.md, section b), so that bench/policy can run them one after the other on the
 * same guest and link. A strategy is explicit state plus a step function: no clock, no I/O; the
 * bench's driver feeds it what it observed and carries out the actions it returns.
 *
 * ferry's own default is not here: it runs through the LiveMigration workflow itself.
 */

export interface SteerInput {
  /** ms since the migrate call was issued. */
  elapsedMs: number;
  /** libvirt's memory_iteration as reported (1 = the first pass); null before the job reports one. */
  iteration: number | null;
  remainingBytes: number | null;
  /** Transfer rate, bytes/s. */
  bandwidthBps: number | null;
  /** The source switched to post-copy (its lifecycle event said so). */
  postcopy: boolean;
}

export type SteerAction =
  | { kind: 'set-max-downtime'; ms: number }
  | { kind: 'start-postcopy' }
  | { kind: 'suspend' }
  | { kind: 'abort'; reason: string };

export interface StrategyContext {
  /** Guest RAM, bytes (the data size every anchor scales its timers by). */
  memoryBytes: number;
}

export interface Strategy<S = unknown> {
  id: string;
  /** What it stands for and where its numbers come from. */
  label: string;
  /** libvirt migrate flags beyond LIVE|PEER2PEER|PERSIST_DEST|UNDEFINE_SOURCE. */
  flags: { postcopy: boolean; autoConverge: boolean };
  /** How often the system looks (its monitor cadence), ms. */
  pollMs: number;
  init(ctx: StrategyContext): S;
  step(state: S, input: SteerInput): { state: S; actions: SteerAction[] };
}

const GiB = 1024 ** 3;
const none = <S>(state: S) => ({ state, actions: [] as SteerAction[] });

/** libvirt's default peer-to-peer pre-copy (`virsh migrate --live --p2p`): nobody steers. */
export const libvirtDefault: Strategy<null> = {
  id: 'libvirt-default',
  label: 'libvirt default p2p pre-copy, no steering',
  flags: { postcopy: false, autoConverge: false },
  pollMs: 500,
  init: () => null,
  step: (s) => none(s),
};

/** QEMU's own throttling of the vCPUs while pre-copy does not converge; nothing else. */
export const autoConverge: Strategy<null> = {
  id: 'auto-converge',
  label: 'libvirt p2p pre-copy with VIR_MIGRATE_AUTO_CONVERGE',
  flags: { postcopy: false, autoConverge: true },
  pollMs: 500,
  init: () => null,
  step: (s) => none(s),
};

/**
 * Asks for post-copy at every look from `fromIteration` on until the source says it switched:
 * QEMU refuses the switch while the migration is still setting up, so a single request made too
 * early would silently leave the guest in pre-copy.
 */
function postcopyFrom(id: string, label: string, fromIteration: number): Strategy<{ requests: number }> {
  return {
    id,
    label,
    flags: { postcopy: true, autoConverge: false },
    pollMs: 100,
    init: () => ({ requests: 0 }),
    step(s, i) {
      if (i.postcopy || i.iteration === null || i.iteration < fromIteration || s.requests >= 100) return none(s);
      return { state: { requests: s.requests + 1 }, actions: [{ kind: 'start-postcopy' }] };
    },
  };
}

/** Post-copy requested as soon as the job runs (the seeds' 3.5 s stall). */
export const postcopyAtOnce = postcopyFrom('postcopy-at-once', 'post-copy requested as soon as the migration runs', 0);

/** Post-copy once the first pre-copy pass is done (iteration 2 began): the seeds' better half. */
export const postcopyAfterFirstPass = postcopyFrom('postcopy-after-pass', 'post-copy once the first pre-copy pass is done', 2);

// ---- Nova (anchors b1) ------------------------------------------------------------------------

/** Nova's data size: max(RAM GiB, 2) (no block-migrated disks here). */
export function novaDataGb(memoryBytes: number): number {
  return Math.max(memoryBytes / GiB, 2);
}

/** Nova's `downtime_steps`: (seconds elapsed, max downtime ms), 50 -> 500 ms in 10 steps. */
export function novaDowntimeSteps(dataGb: number, downtime = 500, steps = 10, delayPerGb = 75): Array<[number, number]> {
  const delay = Math.trunc(delayPerGb * dataGb);
  const base = downtime / steps;
  const offset = (downtime - base) / steps;
  return Array.from({ length: steps + 1 }, (_, i) => [delay * i, Math.trunc(base + offset * i)] as [number, number]);
}

interface NovaState {
  steps: Array<[number, number]>;
  timeoutS: number;
  current: number | null;
  fired: boolean;
}

function nova(timeoutAction: 'abort' | 'force_complete'): Strategy<NovaState> {
  const forceComplete = timeoutAction === 'force_complete';
  return {
    id: forceComplete ? 'nova-force-complete' : 'nova',
    label: forceComplete
      ? 'Nova with live_migration_timeout_action=force_complete and permit_post_copy'
      : 'Nova defaults: downtime 50->500 ms in 10 steps every 75 s x GiB, abort at 800 s x GiB',
    flags: { postcopy: forceComplete, autoConverge: false },
    pollMs: 500,
    init: (ctx) => {
      const dataGb = novaDataGb(ctx.memoryBytes);
      return { steps: novaDowntimeSteps(dataGb), timeoutS: 800 * dataGb, current: null, fired: false };
    },
    step(s, i) {
      const actions: SteerAction[] = [];
      const elapsedS = i.elapsedMs / 1000;
      let fired = s.fired;
      // should_trigger_timeout_action: never in post-copy, once.
      if (!fired && !i.postcopy && elapsedS > s.timeoutS) {
        fired = true;
        actions.push(
          forceComplete
            ? { kind: 'start-postcopy' }
            : { kind: 'abort', reason: `completion timeout ${s.timeoutS} s (800 s x ${s.timeoutS / 800} GiB)` },
        );
      }
      // update_downtime: the last step whose time has passed; only when the value changes.
      let current = s.current;
      const due = [...s.steps].reverse().find(([t]) => elapsedS > t);
      if (due && due[1] !== current) {
        current = due[1];
        actions.push({ kind: 'set-max-downtime', ms: current });
      }
      return { state: { ...s, current, fired }, actions };
    },
  };
}
export const novaDefault = nova('abort');
export const novaForceComplete = nova('force_complete');

// ---- KubeVirt (anchors b2, b4) ----------------------------------------------------------------

/** KubeVirt's acceptableCompletionTime: 150 s x ceil(size / 10^9). */
export function kubevirtAcceptableS(memoryBytes: number, perGiB = 150): number {
  return perGiB * Math.ceil(memoryBytes / 1e9);
}

interface KubevirtState {
  acceptableS: number;
  lowestRemaining: number | null;
  lastProgressMs: number;
  downtimeMs: number | null;
  lastChangeMs: number;
  switched: boolean;
  aborted: boolean;
}

/**
 * KubeVirt with allowPostCopy (so allowWorkloadDisruption), the legacy monitor's decision order,
 * and the downtime ramp of its VEP 291 as the issue states it: 150 -> 1050 ms in 7 steps, 10 s
 * apart, from iteration 3 on (anchors b4 has 900 as the default ceiling; the is used).
 */
export const kubevirt: Strategy<KubevirtState> = {
  id: 'kubevirt',
  label: 'KubeVirt: allowPostCopy, completion 150 s x GiB, progress 150 s, downtime 150->1050 ms (VEP 291)',
  flags: { postcopy: true, autoConverge: false },
  pollMs: 400,
  init: (ctx) => ({
    acceptableS: kubevirtAcceptableS(ctx.memoryBytes),
    lowestRemaining: null,
    lastProgressMs: 0,
    downtimeMs: null,
    lastChangeMs: 0,
    switched: false,
    aborted: false,
  }),
  step(s, i) {
    const actions: SteerAction[] = [];
    const next = { ...s };
    if (i.remainingBytes !== null && (s.lowestRemaining === null || i.remainingBytes < s.lowestRemaining)) {
      next.lowestRemaining = i.remainingBytes;
      next.lastProgressMs = i.elapsedMs;
    }
    // Downtime tuning: 150 ms at the first poll, then +128 ms per step from iteration 3, 10 s apart.
    const initial = 150, ceiling = 1050, steps = 7;
    if (s.downtimeMs === null) {
      next.downtimeMs = initial;
      next.lastChangeMs = i.elapsedMs;
      actions.push({ kind: 'set-max-downtime', ms: initial });
    } else if (!i.postcopy && (i.iteration ?? 0) >= 3 && i.elapsedMs - s.lastChangeMs >= 10_000 && s.downtimeMs < ceiling) {
      next.downtimeMs = Math.min(ceiling, s.downtimeMs + Math.max(Math.trunc((ceiling - initial) / steps), 1));
      next.lastChangeMs = i.elapsedMs;
      actions.push({ kind: 'set-max-downtime', ms: next.downtimeMs });
    }
    if (i.postcopy || s.switched || s.aborted) return { state: next, actions }; // never abort in post-copy
    const elapsedS = i.elapsedMs / 1000;
    if (elapsedS > s.acceptableS) {
      next.switched = true;
      actions.push({ kind: 'start-postcopy' });
    } else if (i.elapsedMs - next.lastProgressMs > 150_000) {
      next.aborted = true;
      actions.push({ kind: 'abort', reason: 'no progress for 150 s (progressTimeout)' });
    }
    return { state: next, actions };
  },
};

// ---- oVirt (anchors b6) -----------------------------------------------------------------------

interface OvirtState {
  firstIteration: number | null;
  lastIteration: number | null;
  nextCheckMs: number;
  /** The schedule still to run: [limit, action]; limit -1 = one per new iteration. */
  pending: Array<[number, SteerAction]>;
  started: boolean;
}

/**
 * oVirt's "Minimal downtime" policy (the engine's default): auto-converge on, 100 ms at start,
 * then on new iterations seen by vdsm's 10 s monitor: 150, 200, 300, 400, 500 ms, then abort.
 */
export const ovirt: Strategy<OvirtState> = {
  id: 'ovirt',
  label: 'oVirt "Minimal downtime": auto-converge, 100 ms, then 150/200/300/400/500 ms per iteration, then abort',
  flags: { postcopy: false, autoConverge: true },
  pollMs: 1_000,
  init: () => ({
    firstIteration: null,
    lastIteration: null,
    nextCheckMs: 10_000,
    pending: [
      [1, { kind: 'set-max-downtime', ms: 150 }],
      [2, { kind: 'set-max-downtime', ms: 200 }],
      [3, { kind: 'set-max-downtime', ms: 300 }],
      [4, { kind: 'set-max-downtime', ms: 400 }],
      [6, { kind: 'set-max-downtime', ms: 500 }],
      [-1, { kind: 'abort', reason: 'end of the convergence schedule' }],
    ],
    started: false,
  }),
  step(s, i) {
    const actions: SteerAction[] = [];
    const next = { ...s, pending: [...s.pending] };
    if (!s.started) {
      next.started = true;
      actions.push({ kind: 'set-max-downtime', ms: 100 });
    }
    if (next.firstIteration === null && i.iteration !== null) next.firstIteration = i.iteration;
    // vdsm's MonitorThread wakes every 10 s and acts only on a memory iteration it had not seen.
    if (i.elapsedMs < s.nextCheckMs || i.iteration === null || i.postcopy) return { state: next, actions };
    next.nextCheckMs = (Math.floor(i.elapsedMs / 10_000) + 1) * 10_000;
    if (i.iteration === s.lastIteration) return { state: next, actions };
    next.lastIteration = i.iteration;
    const iterations = i.iteration - (next.firstIteration ?? i.iteration);
    const head = next.pending[0];
    if (head && head[0] < iterations) {
      next.pending.shift();
      actions.push(head[1]);
    }
    return { state: next, actions };
  },
};

export const RAW_STRATEGIES: Strategy<any>[] = [
  libvirtDefault, novaDefault, novaForceComplete, kubevirt, ovirt, autoConverge, postcopyAtOnce, postcopyAfterFirstPass,
];
