import { setTimeout as sleep } from 'node:timers/promises';
import { Context, heartbeat } from '@temporalio/activity';
import type { MigrationSample, WatchInput } from '../model/activity-contract';
import { isDecisionPoint, isWorthALook, toMigrationSample, type WatchEvent } from '../model/observation';
import type { HostEvent, HostEventFeed } from './connections';
import type { ActivityDeps, WatchLookReason, WatchRoundReport } from './deps';
import { lookupVm } from './domain-facts';
import { hostView, readHost } from './host-view';
import type { JobStats } from './libvirt';


/** While waiting for an event, heartbeat at least this often (the SDK throttles what it sends). */
const HEARTBEAT_MS = 1000;
/** Re-subscriptions a round tries (after a lost feed or a refusal) before it just polls. */
const MAX_REARMS_PER_ROUND = 3;

type Role = 'source' | 'destination';

/** The watch: what the migration job does, reported at each decision point. */
export function watchActivities(deps: ActivityDeps) {
  /**
   * Watches the job on the source and returns at the next decision point: a new iteration, a
   * change of mode, the end of the job, a broken post-copy, or maxWaitMs. Heartbeats progress all
   * along. Every round starts from a reading of both hosts, so it needs no memory of earlier rounds
   * or of another worker; libvirt's events only say when to read again (deps.watch.mode).
   */
  async function watchMigration(input: WatchInput): Promise<MigrationSample> {
    const mode = deps.watch?.mode ?? 'events';
    const started = Date.now();
    const report: WatchRoundReport = {
      mode, polledForLackOfEvents: false, subscribeErrors: [], observations: 0, looks: [], events: [], waitedMs: 0,
    };
    const sample = mode === 'poll' ? await watchByPolling(input, report) : await watchByEvents(input, report);
    report.waitedMs = Date.now() - started;
    // A job that ended in error: libvirt's own words, from the migrate call (none survive in its stats).
    const jobError = sample.job === 'ended' ? deps.connections.migrateError(input.vm.uuid) : undefined;
    try {
      deps.watch?.onRound?.(report);
    } catch {
      // diagnostics must not fail the activity
    }
    return jobError ? { ...sample, jobError } : sample;
  }

  /** The former watch: a full reading every pollMs until a decision point. */
  async function watchByPolling(input: WatchInput, report: WatchRoundReport): Promise<MigrationSample> {
    const pollMs = deps.pollMs ?? 500;
    const started = Date.now();
    for (;;) {
      const sample = await sampleOnce(input);
      if (report.observations++ > 0) report.looks.push('poll');
      heartbeat(sample);
      if (isDecisionPoint(sample, input, Date.now() - started)) return sample;
      await sleep(pollMs);
    }
  }

  /** The former reading: both host views, then the source's domain looked up again for its job stats. */
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

  /**
   * Events first: listen on both hosts, read both hosts, then wait for an event about the VM that
   * may mean a decision point (or the deadline) and read again. Polls only while a host's events
   * cannot be subscribed, and reads anyway after safetyPollMs without an event.
   */
  async function watchByEvents(input: WatchInput, report: WatchRoundReport): Promise<MigrationSample> {
    const started = Date.now();
    const deadline = started + input.maxWaitMs;
    const pollMs = deps.pollMs ?? 500;
    const safetyPollMs = deps.watch?.safetyPollMs ?? 10_000;
    const wakeups = new Wakeups();
    const ears = new Ears(deps, input, wakeups, (err) => report.subscribeErrors.push(err));
    try {
      // Listen before the first reading: an event that lands during the reading is not lost.
      await ears.arm();
      let sample = await observe(input);
      report.observations++;
      heartbeat(sample);
      let lookedAt = Date.now();
      let rearms = 0;
      const listenAgain = async () => {
        if (ears.listening || rearms >= MAX_REARMS_PER_ROUND) return;
        rearms++;
        await ears.arm();
      };
      while (!isDecisionPoint(sample, input, Date.now() - started)) {
        await listenAgain(); // a feed lost during the reading: its 'feed-lost' makes the wait below end at once
        const listening = ears.listening;
        if (!listening) report.polledForLackOfEvents = true;
        const woke = await wakeups.until(Math.min(deadline, lookedAt + (listening ? safetyPollMs : pollMs)), () => heartbeat(sample));
        const lost = woke.some((w) => w.lost);
        report.events.push(...woke.filter((w) => !w.lost).map((w) => w.label));
        const reason: WatchLookReason = lost ? 'feed-lost'
          : woke.length > 0 ? 'event'
          : Date.now() >= deadline ? 'deadline'
          : listening ? 'safety-poll' : 'poll';
        // Listen again BEFORE reading: the reading then covers whatever happened while nobody listened.
        await listenAgain();
        sample = await observe(input);
        report.observations++;
        report.looks.push(reason);
        heartbeat(sample);
        lookedAt = Date.now();
      }
      return sample;
    } finally {
      ears.close();
    }
  }

  /**
   * Both hosts as the situation table sees them (host-view.ts), with the source's job stats taken
   * from the same reading (no second lookup and read, as the former watch did).
   */
  async function observe(input: WatchInput): Promise<MigrationSample> {
    const [source, destination] = await Promise.all([
      readHost(deps, input.source, input.vm.uuid),
      readHost(deps, input.destination, input.vm.uuid),
    ]);
    const stats = source.jobStats;
    return toMigrationSample(source.view, destination.view, stats && { ...stats, active: stats.typeName === 'Unbounded' }, input.lastMode);
  }

  return { watchMigration };
}

interface Wakeup {
  label: string;
  /** The feed ended: events may have been missed. */
  lost: boolean;
}

/** Reasons to look again, collected from the feeds until the watch takes them. */
class Wakeups {
  private pending: Wakeup[] = [];
  private notify: (() => void) | null = null;

  push(w: Wakeup): void {
    this.pending.push(w);
    this.notify?.();
  }

  /** Waits until a reason arrives or `untilMs` (epoch ms) passes; rejects if the activity is cancelled. */
  async until(untilMs: number, beat: () => void): Promise<Wakeup[]> {
    const cancelled = Context.current().cancelled;
    while (this.pending.length === 0) {
      const left = untilMs - Date.now();
      if (left <= 0) break;
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          new Promise<void>((resolve) => {
            this.notify = resolve;
            timer = setTimeout(resolve, Math.min(left, HEARTBEAT_MS));
          }),
          cancelled,
        ]);
      } finally {
        clearTimeout(timer);
        this.notify = null;
      }
      beat();
    }
    return this.pending.splice(0);
  }
}

/** The round's listeners on the source's and the destination's event feeds. */
class Ears {
  private readonly feeds = new Map<Role, { feed: HostEventFeed; unlisten: () => void }>();
  private readonly uuid: string;

  constructor(
    private readonly deps: ActivityDeps,
    private readonly input: WatchInput,
    private readonly wakeups: Wakeups,
    private readonly onSubscribeError: (what: string) => void,
  ) {
    this.uuid = input.vm.uuid.toLowerCase();
  }

  /** Both hosts' feeds are live: events will tell when to look. */
  get listening(): boolean {
    return (['source', 'destination'] as const).every((r) => {
      const f = this.feeds.get(r);
      return f !== undefined && !f.feed.lost;
    });
  }

  /** (Re)subscribes where there is no live feed; a host that refuses stays unheard (the watch polls). */
  async arm(): Promise<void> {
    await Promise.all((['source', 'destination'] as const).map((role) => this.armOne(role)));
  }

  private async armOne(role: Role): Promise<void> {
    const current = this.feeds.get(role);
    if (current && !current.feed.lost) return;
    current?.unlisten();
    this.feeds.delete(role);
    const host = role === 'source' ? this.input.source : this.input.destination;
    let feed: HostEventFeed;
    try {
      feed = await this.deps.connections.eventFeed(host);
    } catch (err) {
      this.onSubscribeError(`${role} ${host}: ${(err as Error).message}`); // the round polls instead
      return;
    }
    const unlisten = feed.listen((e) => this.hear(role, e));
    this.feeds.set(role, { feed, unlisten });
  }

  private hear(role: Role, e: HostEvent): void {
    if (e.kind === 'feed-lost') {
      this.wakeups.push({ label: `${role}:feed-lost (${e.reason})`, lost: true });
      return;
    }
    if (e.dom.uuid.toLowerCase() !== this.uuid) return;
    const event: WatchEvent = e.kind === 'migration-iteration' ? { kind: e.kind, iteration: e.iteration }
      : e.kind === 'job-completed' ? { kind: e.kind }
      : { kind: 'lifecycle', event: e.eventName, detail: e.detailName };
    if (!isWorthALook(event, role, this.input)) return;
    const what = event.kind === 'migration-iteration' ? ` ${event.iteration}` : event.kind === 'lifecycle' ? ` ${event.event}/${event.detail}` : '';
    this.wakeups.push({ label: `${role}:${event.kind}${what}`, lost: false });
  }

  close(): void {
    for (const f of this.feeds.values()) f.unlisten();
    this.feeds.clear();
  }
}
