/**
 * PURE: a dirty-page model of one live migration, advanced in time. It stands in for QEMU in the
 * simulated hypervisor (activities/sim/) and reports the same job-stats figures the real watch
 * reads, so the real workflow and its controller run unchanged on top of it.
 *
 * The model, in the order things happen:
 * - setup: `setupMs` pass with nothing sent (libvirt starts the destination QEMU, connects).
 * - pre-copy, pass 1: sends the RAM that holds data (`touchedBytes`; the rest are zero pages,
 *   which QEMU sends as markers: free here) at the link's bandwidth (min of the link and the cap
 *   set with set-bandwidth).
 * - while a pass is sent the guest dirties at `dirtyBps` (times 1 - the auto-converge throttle),
 *   but at most its working set: a guest writing at r over a working set w re-dirties at most w
 *   per pass, however long the pass. A paused guest dirties nothing.
 * - a pass ends when everything dirty at its start was sent: iteration + 1, and what was dirtied
 *   meanwhile becomes the next pass (QEMU's bitmap sync).
 * - switch-over: as soon as what is left (this pass's rest + what was dirtied since its start) can
 *   be sent within the max downtime (left / bandwidth <= maxDowntime), the guest stops, the rest
 *   is sent, and the job completes after `finishMs` (the destination resumes, the source is torn
 *   down). Downtime = left / bandwidth + `switchMs`.
 * - post-copy: the guest runs on the destination from the switch; everything left is pulled at
 *   the link's bandwidth: the pre-copy cap does not hold in post-copy (QEMU's max-postcopy-bandwidth,
 *   unlimited unless libvirt is given bandwidth.postcopy, replaces max-bandwidth at the switch). Faults, modelled simply: the guest touches pages of its working set at its
 *   dirty rate; a touch of a page not yet on the destination (probability left / RAM) is one
 *   post-copy request. The downtime is only `postcopySwitchMs`.
 * - abort: the job ends cancelled, the guest stays where it ran (abort is refused in post-copy,
 *   as QEMU refuses it). Pause: the guest stops dirtying; its stop counts as downtime from then.
 * - auto-converge (optional): from the second pass on, each pass that did not converge raises
 *   the throttle by `autoConvergeStep` (QEMU: 20 % then 10 % steps, up to 99 %).
 *
 * Time is in simulated milliseconds; `advance` integrates in steps of at most `MAX_STEP_MS` so
 * that a pass boundary or the switch-over is never overshot by more than one step.
 */

export const PAGE_BYTES = 4096;
const MAX_STEP_MS = 20;

export interface SimVmShape {
  memoryBytes: number;
  /** RAM that holds data (the rest is zero pages, free to send); default: all of it. */
  touchedBytes?: number;
  /** How fast the guest writes (bytes/s). */
  dirtyBps: number;
  /** How much memory the guest's writes cover (bytes); default: all of its RAM. */
  workingSetBytes?: number;
}

export interface SimLinkShape {
  /** What the path can carry (bytes/s). */
  linkBps: number;
}

export interface SimTiming {
  setupMs: number;
  finishMs: number;
  switchMs: number;
  postcopySwitchMs: number;
}

/** Timings measured on the lab (field-notes.md, test/fixtures/traces): ~1 s setup, ~1.5 s to finish. */
export const LAB_TIMING: SimTiming = { setupMs: 1000, finishMs: 1500, switchMs: 20, postcopySwitchMs: 5 };

export interface SimStartOptions {
  /** set-bandwidth's cap (bytes/s); null: the link's. */
  capBps: number | null;
  /** The cap once in post-copy (bytes/s); null (the default): none, as QEMU without bandwidth.postcopy. */
  postcopyCapBps?: number | null;
  /** libvirt's default max downtime is 300 ms. */
  maxDowntimeMs: number;
  autoConverge?: boolean;
  autoConvergeStep?: number;
  timing?: SimTiming;
  /**
   * false: what is dirty is the sum of the pass's rest and what was dirtied since, counting a page
   * unsent and rewritten twice, as the model did before (2026-12-01). Only for recomputing a
   * forecast a workflow made with it (workflows/steps/choose-strategy.ts); default true.
   */
  dirtyCountedOnce?: boolean;
}

export type SimMode = 'setup' | 'precopy' | 'postcopy' | 'finishing' | 'completed' | 'cancelled';

export interface SimMigrationState {
  readonly vm: Required<SimVmShape>;
  readonly linkBps: number;
  readonly timing: SimTiming;
  capBps: number | null;
  readonly postcopyCapBps: number | null;
  maxDowntimeMs: number;
  autoConverge: boolean;
  autoConvergeStep: number;
  readonly dirtyCountedOnce: boolean;
  throttle: number;
  mode: SimMode;
  guestPaused: boolean;
  elapsedMs: number;
  iteration: number;
  /** Bytes of the current pass not sent yet. */
  passLeft: number;
  /** Bytes dirtied since the current pass began (at most the working set). */
  dirtied: number;
  passStartedMs: number;
  /** The dirty rate QEMU would report: what the last finished pass saw dirtied, per second. */
  lastPassDirtyBps: number | null;
  processed: number;
  /** Post-copy: bytes still to pull from the source. */
  postcopyLeft: number;
  postcopyRequests: number;
  /** Fractional faults carried between steps (the count stays an integer). */
  faultCarry: number;
  downtimeMs: number | null;
  pausedAtMs: number | null;
  /** When the job's last phase (finishing) ends. */
  finishAtMs: number | null;
  endedBy: 'switch-over' | 'postcopy' | 'abort' | null;
}

export function startSimMigration(vm: SimVmShape, link: SimLinkShape, opts: SimStartOptions): SimMigrationState {
  const full: Required<SimVmShape> = {
    memoryBytes: vm.memoryBytes,
    touchedBytes: Math.min(vm.touchedBytes ?? vm.memoryBytes, vm.memoryBytes),
    dirtyBps: vm.dirtyBps,
    workingSetBytes: Math.min(vm.workingSetBytes ?? vm.memoryBytes, vm.memoryBytes),
  };
  return {
    vm: full, linkBps: link.linkBps, timing: opts.timing ?? LAB_TIMING,
    capBps: opts.capBps, postcopyCapBps: opts.postcopyCapBps ?? null, maxDowntimeMs: opts.maxDowntimeMs,
    autoConverge: opts.autoConverge ?? false, autoConvergeStep: opts.autoConvergeStep ?? 0.2, dirtyCountedOnce: opts.dirtyCountedOnce ?? true, throttle: 0,
    mode: 'setup', guestPaused: false, elapsedMs: 0, iteration: 0,
    passLeft: full.touchedBytes, dirtied: 0, passStartedMs: 0, lastPassDirtyBps: null, processed: 0,
    postcopyLeft: 0, postcopyRequests: 0, faultCarry: 0, downtimeMs: null, pausedAtMs: null, finishAtMs: null, endedBy: null,
  };
}

export function bandwidthBps(s: SimMigrationState): number {
  return s.capBps === null ? s.linkBps : Math.min(s.linkBps, s.capBps);
}

function effectiveDirtyBps(s: SimMigrationState): number {
  return s.guestPaused ? 0 : s.vm.dirtyBps * (1 - s.throttle);
}

/** Advances the migration by `ms` of simulated time. Returns a new state (the input is not changed). */
export function advance(state: SimMigrationState, ms: number): SimMigrationState {
  const s: SimMigrationState = { ...state };
  let left = Math.max(0, ms);
  while (left > 0 && s.mode !== 'completed' && s.mode !== 'cancelled') {
    const dt = Math.min(left, MAX_STEP_MS);
    step(s, dt);
    left -= dt;
  }
  return s;
}

function step(s: SimMigrationState, dt: number): void {
  s.elapsedMs += dt;
  const bw = bandwidthBps(s);
  const sendable = (bw * dt) / 1000;
  switch (s.mode) {
    case 'setup':
      if (s.elapsedMs >= s.timing.setupMs) {
        s.mode = 'precopy';
        s.iteration = 1;
        s.passStartedMs = s.elapsedMs;
      }
      return;
    case 'precopy': {
      const sent = Math.min(sendable, s.passLeft);
      s.passLeft -= sent;
      s.processed += sent;
      s.dirtied = Math.min(s.vm.workingSetBytes, s.dirtied + (effectiveDirtyBps(s) * dt) / 1000);
      if (s.passLeft <= 0) endPass(s);
      if (s.mode === 'precopy' && (leftToSend(s) / bw) * 1000 <= s.maxDowntimeMs) switchOver(s, bw);
      return;
    }
    case 'postcopy': {
      const pulled = Math.min(sendable, s.postcopyLeft);
      // Touches of pages still on the source, before this step's pull: each is a fault.
      const touches = (s.vm.dirtyBps * dt) / 1000 / PAGE_BYTES;
      const faults = touches * (s.postcopyLeft / s.vm.memoryBytes) + s.faultCarry;
      s.postcopyRequests += Math.floor(faults);
      s.faultCarry = faults - Math.floor(faults);
      s.postcopyLeft -= pulled;
      s.processed += pulled;
      if (s.postcopyLeft <= 0) finishing(s, 'postcopy');
      return;
    }
    case 'finishing':
      if (s.finishAtMs !== null && s.elapsedMs >= s.finishAtMs) s.mode = 'completed';
      return;
    default:
      return;
  }
}

function endPass(s: SimMigrationState): void {
  const passMs = Math.max(1, s.elapsedMs - s.passStartedMs);
  s.lastPassDirtyBps = (s.dirtied * 1000) / passMs;
  if (s.autoConverge && s.iteration >= 2) s.throttle = Math.min(0.99, s.throttle + s.autoConvergeStep);
  s.iteration += 1;
  s.passLeft = s.dirtied;
  s.dirtied = 0;
  s.passStartedMs = s.elapsedMs;
}

/**
 * What is dirty now: the pass's unsent rest and what was dirtied since it began, as a union — a
 * page unsent and written again is one page to send. From the second pass on both lie in the
 * working set, so the union is at most the working set; in the first pass, at most the RAM that
 * holds data (or the working set, if larger). QEMU's dirty bitmap holds each page once alike.
 */
export function leftToSend(s: SimMigrationState): number {
  if (!s.dirtyCountedOnce) return s.passLeft + s.dirtied;
  const bound = s.iteration >= 2 ? s.vm.workingSetBytes : Math.max(s.vm.touchedBytes, s.vm.workingSetBytes);
  return Math.min(s.passLeft + s.dirtied, Math.max(bound, s.passLeft));
}

function switchOver(s: SimMigrationState, bw: number): void {
  const rest = leftToSend(s);
  s.processed += rest;
  s.passLeft = 0;
  s.dirtied = 0;
  const pausedFor = s.pausedAtMs === null ? 0 : s.elapsedMs - s.pausedAtMs;
  const stopAndCopyMs = (rest / bw) * 1000;
  s.downtimeMs = Math.round(stopAndCopyMs + s.timing.switchMs + pausedFor);
  finishing(s, 'switch-over', stopAndCopyMs);
}

/** The job ends `finishMs` after the last byte (the stop-and-copy's rest is sent first). */
function finishing(s: SimMigrationState, by: 'switch-over' | 'postcopy', lastBytesMs = 0): void {
  s.mode = 'finishing';
  s.endedBy = by;
  s.finishAtMs = s.elapsedMs + lastBytesMs + s.timing.finishMs;
}

// ---- actions (what applyAction asks of QEMU) ----------------------------------------------------

export function setMaxDowntime(s: SimMigrationState, ms: number): SimMigrationState {
  return { ...s, maxDowntimeMs: ms };
}

export function setBandwidthCap(s: SimMigrationState, capBps: number | null): SimMigrationState {
  return { ...s, capBps };
}

/** Pausing the guest: it stops dirtying; the pause counts as downtime at the switch-over. */
export function pauseGuest(s: SimMigrationState): SimMigrationState {
  return s.guestPaused ? s : { ...s, guestPaused: true, pausedAtMs: s.elapsedMs };
}

export function resumeGuest(s: SimMigrationState): SimMigrationState {
  return { ...s, guestPaused: false, pausedAtMs: null };
}

/** Post-copy from now: refused (null) before pre-copy has begun, as QEMU refuses it. */
export function startPostcopy(s: SimMigrationState): SimMigrationState | null {
  if (s.mode === 'postcopy' || s.mode === 'finishing' || s.mode === 'completed') return s;
  if (s.mode !== 'precopy') return null;
  return {
    ...s, mode: 'postcopy', capBps: s.postcopyCapBps, postcopyLeft: leftToSend(s), passLeft: 0, dirtied: 0,
    guestPaused: false, downtimeMs: s.timing.postcopySwitchMs, iteration: s.iteration + 1,
  };
}

/** Aborting: refused (null) once the guest may run on the destination (post-copy, finishing). */
export function abortMigration(s: SimMigrationState): SimMigrationState | null {
  if (s.mode === 'cancelled' || s.mode === 'completed') return s;
  if (s.mode === 'postcopy' || s.mode === 'finishing') return null;
  return { ...s, mode: 'cancelled', endedBy: 'abort', guestPaused: false, pausedAtMs: null };
}

// ---- what the job stats say ------------------------------------------------------------------------

export interface SimJobStats {
  job: 'running' | 'completed' | 'cancelled';
  mode: 'setup' | 'precopy' | 'postcopy' | 'paused';
  /** Where the guest runs now. */
  guestOn: 'source' | 'destination';
  elapsedMs: number;
  iteration: number | null;
  dataTotal: number;
  dataRemaining: number;
  dataProcessed: number;
  memoryBps: number | null;
  dirtyBps: number | null;
  expectedDowntimeMs: number | null;
  downtimeMs: number | null;
  postcopyRequests: number;
}

export function jobStats(s: SimMigrationState): SimJobStats {
  const bw = bandwidthBps(s);
  const running = s.mode !== 'completed' && s.mode !== 'cancelled';
  const remaining = s.mode === 'postcopy' ? s.postcopyLeft : s.mode === 'precopy' ? s.passLeft : 0;
  const mode = s.mode === 'setup' ? 'setup'
    : s.mode === 'postcopy' || s.endedBy === 'postcopy' ? 'postcopy'
      : s.guestPaused ? 'paused' : 'precopy';
  return {
    job: running ? 'running' : s.mode === 'completed' ? 'completed' : 'cancelled',
    mode,
    guestOn: s.mode === 'postcopy' || s.mode === 'finishing' || s.mode === 'completed' ? 'destination' : 'source',
    elapsedMs: Math.round(s.elapsedMs),
    iteration: s.mode === 'setup' ? null : s.iteration,
    dataTotal: s.mode === 'setup' ? 0 : s.vm.memoryBytes,
    dataRemaining: Math.round(remaining),
    dataProcessed: Math.round(s.processed),
    memoryBps: s.mode === 'setup' ? null : bw,
    dirtyBps: s.mode === 'setup' ? null : Math.round(s.lastPassDirtyBps ?? 0),
    expectedDowntimeMs: s.mode === 'precopy' ? Math.round((leftToSend(s) / bw) * 1000) : null,
    downtimeMs: s.downtimeMs,
    postcopyRequests: s.postcopyRequests,
  };
}

/** Runs a migration to its end (or `limitMs`) without actions: the model's ideal for a shape. */
export function idealRun(vm: SimVmShape, link: SimLinkShape, opts: SimStartOptions, limitMs = 600_000): SimMigrationState {
  let s = startSimMigration(vm, link, opts);
  while ((s.mode !== 'completed' && s.mode !== 'cancelled') && s.elapsedMs < limitMs) s = advance(s, 1000);
  return s;
}
