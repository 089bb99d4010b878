/**
 * One run of one cell of the policy bench: a fresh guest on the source, warmed up, moved to the
 * destination by one strategy, measured (total time, libvirt's downtime, the guest's own longest
 * stall, bytes, iterations, time degraded), then deleted. Raw strategies run through ferry's
 * libvirt client the way their system drives libvirt; ferry runs through its workflow.
 */
import { markNow, stallSince, type GuestMark } from '../../lab/guest/serial';
import { sleep } from '../../lab/proc';
import { rawMigrate } from '../../lab/raw-migration';
import { moveContinuity } from '../../lab/guest/continuity';
import { createLabVm, deleteLabVm, vmSerial, vmSerialOn } from '../../lab/vms';
import type { FerryClient } from '../../client/ferry-client';
import { runForecast } from '../../client/forecast-client';
import { completionBudgetMs, DEFAULT_CONVERGENCE_POLICY } from '../../model/convergence-policy';
import type { ForecastStrategy } from '../../model/forecast/strategy-forecast';
import type { PolicyOverrides } from '../../model/types';
import { workflowTimes } from '../overhead/history';
import { forecastMappingFor, forecastPolicyFor, predictionFrom } from './forecast-mapping';
import type { GuestProfile } from './guests';
import type { SteerAction, Strategy } from './strategies';

/** ferry's own strategies, through the LiveMigration workflow: its default policy, and `strategy: auto`. */
export type FerryStrategy = 'ferry' | 'ferry-auto';
export const WORKFLOW_STRATEGIES: readonly FerryStrategy[] = ['ferry', 'ferry-auto'];

/** What ferry's forecast (the forecastMigration workflow) predicted for this run, before the move. */
export interface RunForecast {
  /** The forecast strategy that models the bench's; null when none does or the forecast failed. */
  strategy: ForecastStrategy | null;
  /** Predicted total, ms, when the forecast says it completes within its budget; else null. */
  predictedTotalMs: number | null;
  completes: boolean;
  predictedDowntimeMs: number | null;
  /** Why this strategy (or why none), or the forecast's error. */
  reason: string;
  error?: string;
  /** The forecast's inputs as it measured them (null when it did not run). */
  dirtyBps: number | null;
  workingSetBytes: number | null;
  bandwidthBps: number | null;
  budgetMs: number | null;
  pick: ForecastStrategy | null;
  /** Every strategy's line, for reading the misses afterwards. */
  lines: Array<{ strategy: ForecastStrategy; completes: boolean; totalMs: number; iterations: number }>;
  /** How long the forecast took (its dirty-rate sampling), outside the measured time. */
  tookMs: number;
  /** The fixed costs it assumed (ms) and whence: the pair's past migrations or the lab's default. */
  fixedCostsMs?: number | null;
  fixedCostsSource?: string | null;
  /** How it read the sampling (rounds; working set or spreading). */
  dirtyEstimate?: string | null;
}

export interface RunMetrics {
  guest: string;
  strategy: string;
  run: number;
  /** completed: the guest runs on the destination; capped: still running at the cap and aborted by the bench. */
  outcome: 'completed' | 'aborted' | 'failed' | 'capped';
  /** Why it ended that way (the strategy's abort reason, libvirt's error). */
  why: string | null;
  mode: 'precopy' | 'postcopy';
  totalMs: number;
  downtimeMs: number | null;
  guestStallMs: number | null;
  bytes: number | null;
  iterations: number | null;
  /** Time the guest ran slowed: in post-copy (faults), or throttled by auto-converge. */
  degradedMs: number | null;
  /** The steering the strategy did, in order: "12.3s set-max-downtime 95". */
  actions: string[];
  /**
   * ferry only: request -> outcome (pre-checks, claim, prepare and finish included). Its totalMs
   * is the migrate call -> job ended, as for the raw strategies; the rest is bench/overhead's.
   */
  requestToOutcomeMs?: number;
  /**
   * Heartbeats the guest went back on the destination (0: it went on from where it was). Not 0
   * means the destination resumed from older memory than the source had (lab/guest/continuity.ts).
   */
  regressedBy?: number;
  /** ferry's forecast of this run, asked after the warm-up and before the move (absent: --no-forecast). */
  forecast?: RunForecast;
  /** ferry-auto: the forecast the workflow itself made before its claim, and what it picked. */
  auto?: { pick: string | null; predictedTotalMs: number | null; dirtyBps: number | null; workingSetBytes: number | null; reason: string };
  /** ferry and ferry-auto: the workflow's decisions, in order (what it actually did). */
  decisions?: Array<{ atMs: number; action: string; reason: string }>;
}

export interface CellContext {
  source: string;
  destination: string;
  capMs: number;
  /** The bench's worker, for ferry's strategies; absent: only raw strategies run. */
  ferry: { client: FerryClient; policy?: PolicyOverrides } | null;
  /**
   * Ask ferry's forecast before each move, through the worker, with the link's bandwidth the
   * bench measured (so the forecast assumes the path speed the move will have); null: --no-forecast.
   */
  forecast: { client: FerryClient; bandwidthMiBps: number } | null;
}

const WARM_UP_MS = 3_000;

async function guestMark(vm: string): Promise<GuestMark | undefined> {
  return markNow(await vmSerial(vm));
}

/** The guest's longest felt stall since the mark, once the meter settled (2-3 s after the event). */
async function guestStallMs(vm: string, mark: GuestMark | undefined): Promise<number | null> {
  if (!mark) return null;
  for (let i = 0; i < 16; i++) {
    const r = stallSince(await vmSerial(vm), mark);
    if (r.settled || i === 15) return r.lines > 0 ? Math.round(r.feltUs / 100) / 10 : null;
    await sleep(500);
  }
  return null;
}

function describe(a: SteerAction): string {
  switch (a.kind) {
    case 'set-max-downtime': return `set-max-downtime ${a.ms}`;
    case 'abort': return `abort (${a.reason})`;
    default: return a.kind;
  }
}

async function runRaw(vm: string, strategy: Strategy, profile: GuestProfile, ctx: CellContext): Promise<Omit<RunMetrics, 'guest' | 'strategy' | 'run' | 'guestStallMs'>> {
  let state = strategy.init({ memoryBytes: profile.memoryMiB * 1024 * 1024 });
  const actions: string[] = [];
  let lastStepMs = -Infinity;
  let capped = false;
  let abortReason: string | null = null;
  let degradedSinceMs: number | null = null;
  const r = await rawMigrate({
    vm,
    to: ctx.destination,
    allowPostcopy: strategy.flags.postcopy,
    autoConverge: strategy.flags.autoConverge,
    pollMs: Math.min(strategy.pollMs, 250),
    async onPoll(poll, { source, dom }) {
      const throttled = (poll.stats?.autoConvergeThrottle ?? 0) > 0;
      if (degradedSinceMs === null && (poll.postcopy || throttled)) degradedSinceMs = poll.elapsedMs;
      if (!capped && !abortReason && poll.elapsedMs > ctx.capMs && !poll.postcopy) {
        capped = true;
        actions.push(`${(poll.elapsedMs / 1000).toFixed(1)}s abort (bench cap)`);
        await source.domainAbortJob(dom).catch(() => undefined);
        return;
      }
      // The strategy looks at its own cadence, as its system does.
      if (poll.elapsedMs - lastStepMs < strategy.pollMs) return;
      lastStepMs = poll.elapsedMs;
      const stepped = strategy.step(state, {
        elapsedMs: poll.elapsedMs,
        iteration: poll.stats?.memoryIteration ?? null,
        remainingBytes: poll.stats?.dataRemaining ?? null,
        bandwidthBps: poll.stats?.memoryBps ?? null,
        postcopy: poll.postcopy,
      });
      state = stepped.state;
      const at = `${(poll.elapsedMs / 1000).toFixed(1)}s`;
      // A refused act is recorded once per message (a strategy may ask again at every look).
      const refused = (a: SteerAction) => (err: Error) => {
        const line = `${describe(a)} refused: ${err.message}`;
        if (!actions.some((x) => x.endsWith(line))) actions.push(`${at} ${line}`);
      };
      for (const a of stepped.actions) {
        if (!(a.kind === 'start-postcopy' && actions.some((x) => x.endsWith(' start-postcopy')))) actions.push(`${at} ${describe(a)}`);
        if (a.kind === 'set-max-downtime') await source.domainMigrateSetMaxDowntime(dom, a.ms).catch(refused(a));
        else if (a.kind === 'start-postcopy') await source.domainMigrateStartPostCopy(dom).catch(refused(a));
        else if (a.kind === 'suspend') await source.domainSuspend(dom).catch(refused(a));
        else if (a.kind === 'abort') {
          abortReason = a.reason;
          await source.domainAbortJob(dom).catch(refused(a));
        }
      }
    },
  });
  const outcome = r.outcome === 'completed' ? 'completed' : capped ? 'capped' : abortReason ? 'aborted' : 'failed';
  return {
    outcome,
    why: capped ? `not finished within the cap (${Math.round(ctx.capMs / 1000)} s)` : abortReason ?? r.error,
    mode: r.mode,
    totalMs: r.totalMs,
    downtimeMs: r.downtimeMs,
    bytes: r.bytes,
    iterations: r.completed?.memoryIteration ?? (r.iterations.length ? Math.max(...r.iterations) : null),
    degradedMs: degradedSinceMs === null ? 0 : Math.max(0, r.totalMs - degradedSinceMs),
    actions,
  };
}

async function runFerry(vm: { name: string; uuid: string }, strategy: FerryStrategy, ctx: CellContext): Promise<Omit<RunMetrics, 'guest' | 'strategy' | 'run' | 'guestStallMs'>> {
  const client = ctx.ferry!.client;
  const policy: PolicyOverrides | undefined = strategy === 'ferry-auto' ? { ...ctx.ferry!.policy, strategy: 'auto' } : ctx.ferry!.policy;
  const t0 = Date.now();
  const handle = await client.startMigration({ vm: vm.name, destination: { host: ctx.destination }, policy, requestedBy: 'bench/policy' }, vm.uuid);
  const capTimer = setTimeout(() => void client.abort(handle.workflowId, 'bench cap').catch(() => undefined), ctx.capMs);
  try {
    const o = await client.result(handle.workflowId);
    const requestToOutcomeMs = Date.now() - t0;
    // The migrate call (startMigration scheduled) -> the job ended (the last watch round): the
    // same span rawMigrate times for the other strategies.
    const wt = await workflowTimes(client.handle(handle.workflowId));
    const started = wt.activities.find((a) => a.activityType === 'startMigration')?.scheduledMs;
    const watched = wt.activities.filter((a) => a.activityType === 'watchMigration' || a.activityType === 'startMigration').map((a) => a.endedMs);
    const totalMs = started !== undefined && watched.length ? Math.max(...watched) - started : requestToOutcomeMs;
    const postcopyAt = o.decisions.find((d) => d.action === 'start-postcopy')?.atMs;
    return {
      outcome: o.outcome === 'completed' ? 'completed' : o.outcome === 'failed' ? 'failed' : 'aborted',
      why: o.error?.message ?? (o.outcome === 'completed' ? null : o.decisions.at(-1)?.reason ?? null),
      mode: o.mode === 'postcopy' ? 'postcopy' : 'precopy',
      totalMs,
      requestToOutcomeMs,
      downtimeMs: o.downtimeMs,
      bytes: o.bytes,
      iterations: o.iterations,
      // In post-copy from the switch (atMs: since the workflow started) to the job's end.
      degradedMs: postcopyAt === undefined ? 0 : Math.max(0, (watched.length ? Math.max(...watched) - wt.startedMs : o.totalMs) - postcopyAt),
      actions: o.decisions.map((d) => `${(d.atMs / 1000).toFixed(1)}s ${d.action}`),
      decisions: o.decisions.map((d) => ({ atMs: d.atMs, action: d.action, reason: d.reason })),
      // The outcome's decisions carry no inputs; the decisions query has the forecast's numbers.
      ...(strategy === 'ferry-auto' ? { auto: autoForecast(await client.decisions(handle.workflowId).catch(() => o.decisions)) } : {}),
    };
  } finally {
    clearTimeout(capTimer);
  }
}

/** The workflow's own forecast decision (strategy auto), as it recorded it before the claim. */
function autoForecast(decisions: Array<{ action: string; reason: string; inputs?: Record<string, number | string | boolean | null> }>): NonNullable<RunMetrics['auto']> {
  const d = decisions.find((x) => x.action === 'forecast');
  if (!d) return { pick: null, predictedTotalMs: null, dirtyBps: null, workingSetBytes: null, reason: 'no forecast decision recorded' };
  const num = (k: string) => (typeof d.inputs?.[k] === 'number' ? (d.inputs[k] as number) : null);
  return {
    pick: typeof d.inputs?.pick === 'string' ? d.inputs.pick : null,
    predictedTotalMs: num('predictedTotalMs'), dirtyBps: num('dirtyBps'), workingSetBytes: num('workingSetBytes'), reason: d.reason,
  };
}

/**
 * ferry's forecast for this VM to the destination, through the worker: the strategy that models the
 * bench's (forecast-mapping.ts), asked with its policy. A strategy nothing models gets no forecast
 * (its 3 s of sampling would buy nothing); a forecast that fails is recorded, not fatal.
 */
async function forecastRun(vm: string, id: string, profile: GuestProfile, destination: string, ctx: NonNullable<CellContext['forecast']>): Promise<RunForecast> {
  const memoryBytes = profile.memoryMiB * 1024 * 1024;
  const mapping = forecastMappingFor(id, { memoryBytes, budgetMs: completionBudgetMs(DEFAULT_CONVERGENCE_POLICY, profile.memoryMiB) });
  const policy = forecastPolicyFor(mapping);
  const empty = { dirtyBps: null, workingSetBytes: null, bandwidthBps: null, budgetMs: null, pick: null, lines: [] };
  if (policy === null) {
    return { strategy: null, predictedTotalMs: null, completes: false, predictedDowntimeMs: null, reason: mapping.kind === 'none' ? mapping.reason : 'no forecast', ...empty, tookMs: 0 };
  }
  const t0 = Date.now();
  try {
    const f = await runForecast(ctx.client, { vm, to: destination, bandwidthMiBps: ctx.bandwidthMiBps, policy });
    const p = predictionFrom(mapping, f);
    return {
      strategy: p.strategy, predictedTotalMs: p.totalMs, completes: p.completes, predictedDowntimeMs: p.downtimeMs, reason: p.reason,
      dirtyBps: f.dirtyBps, workingSetBytes: f.workingSetBytes, bandwidthBps: f.bandwidth.bps, budgetMs: f.budgetMs, pick: f.pick,
      lines: f.strategies.map((l) => ({ strategy: l.strategy, completes: l.completes, totalMs: l.totalMs, iterations: l.iterations })),
      tookMs: Date.now() - t0,
      fixedCostsMs: f.fixedCosts?.ms ?? null, fixedCostsSource: f.fixedCosts?.source ?? null, dirtyEstimate: f.dirtyEstimate ?? null,
    };
  } catch (err) {
    const message = (err as Error).message;
    return { strategy: null, predictedTotalMs: null, completes: false, predictedDowntimeMs: null, reason: `forecast failed: ${message}`, error: message, ...empty, tookMs: Date.now() - t0 };
  }
}

export async function runCell(profile: GuestProfile, strategy: Strategy | FerryStrategy, run: number, ctx: CellContext): Promise<RunMetrics> {
  const id = typeof strategy === 'string' ? strategy : strategy.id;
  const name = `bp-${profile.id}-${id}-${run}`.slice(0, 63);
  const vm = await createLabVm({
    name, host: ctx.source, memoryMiB: profile.memoryMiB, rateMiBps: profile.rateMiBps, wssMiB: profile.wssMiB, driftMiBps: profile.driftMiBps,
    ...(profile.emulator ? { emulator: profile.emulator } : {}),
  });
  try {
    await sleep(WARM_UP_MS); // calibrated and dirtying at its steady rate
    // Before the mark: the forecast's sampling is outside both the measured time and the stall window.
    const forecast = ctx.forecast ? await forecastRun(name, id, profile, ctx.destination, ctx.forecast) : undefined;
    const mark = await guestMark(name);
    const m = typeof strategy === 'string' ? await runFerry(vm, strategy, ctx) : await runRaw(name, strategy, profile, ctx);
    const guestStall = await guestStallMs(name, mark);
    const continuity = m.outcome === 'completed'
      ? moveContinuity(await vmSerialOn(name, ctx.source), await vmSerialOn(name, ctx.destination))
      : null;
    return { guest: profile.id, strategy: id, run, guestStallMs: guestStall, ...m, regressedBy: continuity?.regressedBy, ...(forecast ? { forecast } : {}) };
  } finally {
    await deleteLabVm(name).catch(() => undefined);
  }
}
