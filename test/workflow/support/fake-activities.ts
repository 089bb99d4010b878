/**
 * Scripted fakes of every activity createActivities() registers (same names, same input and
 * output types as workflows/activity-types.ts), for workflow tests on a Temporal test server.
 *
 * Each fake records its calls (name + input, in order). The watch returns a scripted sequence of
 * samples; a step may be a gate the test opens later, so that a test can hold the workflow at a
 * known point (e.g. in post-copy) while it sends updates or queries. Any activity can be replaced
 * by a script override (throw a refusal, fail, return something else).
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { FerryActivities } from '../../../model/activity-contract';
import type { PairStacks } from '../../../model/data-path';
import type { StorageFacts } from '../../../model/storage/facts';
import type {
  ApplyActionInput, ChooseDestinationInput, ChooseDestinationResult, ClaimInput, ClaimResult, DestinationCheckInput,
  DestinationCheckResult, FinishInput, FinishResult, GuestMeterMark, HostDomainView, MigrationSample, PrepareInput, PrepareResult,
  RecoverInput, RecoverResult, RollbackInput, RollbackResult, SourceCheckInput, SourceCheckResult, StartInput, StartResult, VmFacts, WatchInput,
} from '../../../model/activity-contract';

export type ActivityName = keyof FerryActivities;

export interface RecordedCall {
  name: ActivityName;
  input: unknown;
}

/** The same refusal activities/refusal.ts builds (never retried, type 'Refused'). */
export function refusal(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'Refused', nonRetryable: true, message });
}

/** A non-retryable failure of another type (e.g. what a broken libvirt call would end with). */
export function hardFailure(message: string, type = 'LibvirtError'): ApplicationFailure {
  return ApplicationFailure.create({ type, nonRetryable: true, message });
}

// ---- host views and samples --------------------------------------------------------------------

export const view = {
  running: (reason = 'Booted'): HostDomainView => ({ reachable: true, domain: { state: 'running', reason, persistent: true }, job: { type: 'none' } }),
  sourceMigrating: (): HostDomainView => ({ reachable: true, domain: { state: 'running', reason: 'Booted', persistent: true }, job: { type: 'unbounded' } }),
  incoming: (): HostDomainView => ({ reachable: true, domain: { state: 'paused', reason: 'Migration', persistent: false }, job: { type: 'none' } }),
  none: (): HostDomainView => ({ reachable: true, domain: 'none', job: { type: 'none' } }),
  sourcePostcopy: (reason = 'Postcopy'): HostDomainView => ({ reachable: true, domain: { state: 'paused', reason, persistent: true }, job: { type: 'unbounded' } }),
  destPostcopy: (reason = 'Postcopy'): HostDomainView => ({ reachable: true, domain: { state: 'running', reason, persistent: true }, job: { type: 'none' } }),
  migrated: (): HostDomainView => ({ reachable: true, domain: { state: 'running', reason: 'Migrated', persistent: true }, job: { type: 'none' } }),
};

const MiB = 1024 * 1024;

/** A pre-copy sample: job running, iteration n, `remainingMiB` of 128 MiB left, 20 MiB/s sent. */
export function precopy(iteration: number, remainingMiB: number, extra: Partial<MigrationSample> = {}): MigrationSample {
  return {
    job: 'running', mode: 'precopy', elapsedMs: iteration * 1000, iteration,
    dataTotal: 128 * MiB, dataRemaining: remainingMiB * MiB, dataProcessed: (128 - remainingMiB) * MiB,
    memoryBps: 20 * MiB, dirtyBps: 2 * MiB, expectedDowntimeMs: null, postcopyFailed: false,
    source: view.sourceMigrating(), destination: view.incoming(), ...extra,
  };
}

/** The job starting: no data yet. */
export function setup(): MigrationSample {
  return { ...precopy(0, 0), mode: 'setup', iteration: null, dataTotal: 0, dataRemaining: 0, dataProcessed: 0, memoryBps: null, dirtyBps: null };
}

/** Post-copy running: the source paused (Postcopy), the destination running (Postcopy). */
export function postcopy(iteration: number, remainingMiB: number, extra: Partial<MigrationSample> = {}): MigrationSample {
  return precopy(iteration, remainingMiB, { mode: 'postcopy', source: view.sourcePostcopy(), destination: view.destPostcopy(), ...extra });
}

/** Post-copy broken: both QEMUs alive, PostcopyFailed on both ends. */
export function postcopyBroken(iteration: number, remainingMiB: number): MigrationSample {
  return postcopy(iteration, remainingMiB, {
    postcopyFailed: true, source: view.sourcePostcopy('PostcopyFailed'), destination: view.destPostcopy('PostcopyFailed'),
  });
}

/** The job is over and the guest runs on the destination only. */
export function endedOnDestination(): MigrationSample {
  return { ...precopy(3, 0), job: 'ended', mode: 'precopy', source: view.none(), destination: view.migrated() };
}

/** The job is over and the guest still runs on the source only (failed or cancelled migration). */
export function endedOnSource(): MigrationSample {
  return { ...precopy(1, 0), job: 'ended', source: view.running(), destination: view.none() };
}

// ---- the script ----------------------------------------------------------------------------------

/** A point where the watch waits until the test opens it, then returns `sample`. */
export class Gate {
  private open!: () => void;
  private readonly opened = new Promise<void>((resolve) => { this.open = resolve; });
  private reachedResolve!: () => void;
  /** Resolves once the watch is waiting at this gate (the workflow processed every earlier sample). */
  readonly reached = new Promise<void>((resolve) => { this.reachedResolve = resolve; });
  constructor(readonly sample: MigrationSample) {}
  release(): void { this.open(); }
  async pass(): Promise<MigrationSample> {
    this.reachedResolve();
    await this.opened;
    return this.sample;
  }
}

export type WatchStep = MigrationSample | Gate;

/** A console password the fake's destination XML carries: it must never reach the history. */
export const FAKE_CONSOLE_PASSWORD = 'fake-vnc-pw-7f3a9c';
/** What prepareDestination would return as the XML (runs begun before it left the history). */
export function fakeDestXml(vmName: string): string {
  return `<domain><name>${vmName}</name><devices><graphics type='vnc' passwd='${FAKE_CONSOLE_PASSWORD}'/></devices></domain>`;
}
export const FAKE_DEST_XML_FINGERPRINT = `sha256:${'5e'.repeat(32)}`;

export interface FakeScript {
  vm?: Partial<VmFacts>;
  source?: string;
  /** Destination chooseDestinationHost returns when the request names none. */
  defaultDestination?: string;
  postcopyBlockers?: string[];
  postcopySupported?: boolean;
  /** What checkStorage reports (absent: a diskless guest, as every guest before storage). */
  storage?: StorageFacts;
  /** Both hosts' libvirt/QEMU, as the real pre-check reports them (absent: not reported, as before). */
  stacks?: PairStacks;
  /** What the watch returns, in order; after the last step it repeats the last sample every `repeatDelayMs`. */
  samples: WatchStep[];
  /** Delay before each scripted sample (ms), e.g. so that the workflow's clock advances. */
  sampleDelayMs?: number;
  repeatDelayMs?: number;
  finalStats?: Partial<FinishResult['stats']>;
  /** Replace any activity (throw a refusal, fail on the n-th call, ...). */
  overrides?: Partial<{ [K in ActivityName]: (input: Parameters<FerryActivities[K]>[0], call: number) => ReturnType<FerryActivities[K]> }>;
}

/** The VM of a fake: a fresh UUID each time, so each test has its own workflow id (migrate-<uuid>). */
export function defaultVm(): VmFacts {
  return { name: 'web-7', uuid: randomUUID(), memoryMiB: 128, vcpus: 1 };
}

export interface FakeActivities {
  activities: FerryActivities;
  calls: RecordedCall[];
  /** Names of the calls in order. */
  names(): ActivityName[];
  /** Inputs of every call to `name`. */
  inputsOf<K extends ActivityName>(name: K): Parameters<FerryActivities[K]>[0][];
  count(name: ActivityName): number;
  vm: VmFacts;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function fakeActivities(script: FakeScript): FakeActivities {
  const vm: VmFacts = { ...defaultVm(), ...script.vm };
  const source = script.source ?? 'host-c';
  const calls: RecordedCall[] = [];
  const perName = new Map<ActivityName, number>();
  let watchIndex = 0;
  let last: MigrationSample | undefined;

  function record<K extends ActivityName>(name: K, input: Parameters<FerryActivities[K]>[0]): number {
    calls.push({ name, input });
    const n = (perName.get(name) ?? 0) + 1;
    perName.set(name, n);
    return n;
  }

  /** Records the call, then runs the override if there is one, else the default fake. */
  function fake<K extends ActivityName>(name: K, byDefault: (input: Parameters<FerryActivities[K]>[0]) => ReturnType<FerryActivities[K]>) {
    return ((input: Parameters<FerryActivities[K]>[0]) => {
      const n = record(name, input);
      const override = script.overrides?.[name] as ((i: typeof input, call: number) => ReturnType<FerryActivities[K]>) | undefined;
      return override ? override(input, n) : byDefault(input);
    }) as unknown as FerryActivities[K];
  }

  const activities: FerryActivities = {
    locateVm: fake('locateVm', async (input) => ({
      found: [{ host: source, name: vm.name, uuid: vm.uuid, state: 'running', reason: 'Booted' }].filter((f) => input.vm === f.name || input.vm === f.uuid),
      unreachable: [], hosts: [source, script.defaultDestination ?? 'host-a'],
    })),
    checkSource: fake('checkSource', async (_input: SourceCheckInput): Promise<SourceCheckResult> => ({
      vm, source, state: 'running', postcopyBlockers: script.postcopyBlockers ?? [],
      checks: [{ check: 'state', ok: true, detail: 'running' }],
    })),
    checkDestination: fake('checkDestination', async (_input: DestinationCheckInput): Promise<DestinationCheckResult> => ({
      checks: [{ check: 'cpu', ok: true, detail: 'compatible' }], postcopySupported: script.postcopySupported ?? true,
      ...(script.stacks ? { stacks: script.stacks } : {}),
    })),
    checkStorage: fake('checkStorage', async () => script.storage ?? { disks: [] }),
    createDestinationVolumes: fake('createDestinationVolumes', async (input) => ({
      steps: input.copies.map((c) => `created ${c.volumeName} in pool '${c.pool}' for disk ${c.target}`),
    })),
    chooseDestinationHost: fake('chooseDestinationHost', async (input: ChooseDestinationInput): Promise<ChooseDestinationResult> => (
      input.requested
        ? { destination: input.requested.host, how: input.requested.mode === 'force' ? 'forced' : 'checked', detail: `${input.requested.host} has room` }
        : { destination: script.defaultDestination ?? 'host-a', how: 'placement', detail: `Placement chose ${script.defaultDestination ?? 'host-a'}` }
    )),
    claim: fake('claim', async (input: ClaimInput): Promise<ClaimResult> => ({ outcome: 'claimed', detail: `claimed on ${input.destination}` })),
    revertClaim: fake('revertClaim', async (_input: { migrationId: string; vmUuid: string }): Promise<string> => 'reverted'),
    dropMigrationClaim: fake('dropMigrationClaim', async (_input: { migrationId: string }): Promise<boolean> => true),
    // As the real activity: the XML only for a workflow that does not ask to keep it out of the history.
    prepareDestination: fake('prepareDestination', async (input: PrepareInput): Promise<PrepareResult> => ({
      ...(input.xmlOutOfHistory ? {} : { destXml: fakeDestXml(vm.name) }),
      fingerprint: FAKE_DEST_XML_FINGERPRINT, changes: ['graphics listen 10.77.0.13 -> 10.77.0.11'],
    })),
    startMigration: fake('startMigration', async (_input: StartInput): Promise<StartResult> => ({ outcome: 'started' })),
    watchMigration: fake('watchMigration', async (_input: WatchInput): Promise<MigrationSample> => {
      const step = script.samples[watchIndex];
      if (step === undefined) {
        if (!last) throw new Error('fake watchMigration: no samples scripted');
        await sleep(script.repeatDelayMs ?? 50);
        return last;
      }
      watchIndex++;
      if (script.sampleDelayMs) await sleep(script.sampleDelayMs);
      last = step instanceof Gate ? await step.pass() : step;
      return last;
    }),
    applyAction: fake('applyAction', async (input: ApplyActionInput): Promise<string> => `${input.action.kind} applied`),
    recoverPostcopy: fake('recoverPostcopy', async (_input: RecoverInput): Promise<RecoverResult> => ({
      outcome: 'resumed', why: 'post-copy resumed', attempts: 1, errors: [], hosts: { source: 'paused (Postcopy)', destination: 'running (Postcopy)' },
    })),
    finishMigration: fake('finishMigration', async (input: FinishInput): Promise<FinishResult> => ({
      stats: { downtimeMs: 42, totalMs: 5000, bytes: 140 * MiB, iterations: 3, postcopyRequests: null, ...script.finalStats },
      hosts: { source: 'absent', destination: `running (Migrated) on ${input.destination}` },
    })),
    finishOnHosts: fake('finishOnHosts', async (input: FinishInput): Promise<FinishResult> => ({
      stats: { downtimeMs: 42, totalMs: 5000, bytes: 140 * MiB, iterations: 3, postcopyRequests: null, ...script.finalStats },
      hosts: { source: 'absent', destination: `running (Migrated) on ${input.destination}` },
    })),
    rollbackMigration: fake('rollbackMigration', async (input: RollbackInput): Promise<RollbackResult> => ({
      outcome: 'rolled-back', situation: 'not-started-or-rolled-back', next: 'roll-back',
      hosts: { source: 'running (Booted)', destination: input.destination ? 'absent' : 'n/a' },
      steps: ['aborted the migration job', 'allocations: reverted'],
    })),
    guestStallMark: fake('guestStallMark', async (_input: { vmName: string }): Promise<Record<string, unknown> | null> => ({ line: 7 })),
    guestStallSince: fake('guestStallSince', async (_input: { vmName: string; mark: GuestMeterMark }): Promise<number | null> => 55),
    // The drain's activities (drain tests script them through overrides: test/workflow/support/drain-fakes.ts).
    gatherDrainFacts: fake('gatherDrainFacts', async (input) => ({ host: input.host, maxOutgoing: null, vms: [], destinations: [], unreachable: [] })),
    setHostMaintenance: fake('setHostMaintenance', async (input) => ({ host: input.host, inMaintenance: input.on, changed: true })),
    reserveRoom: fake('reserveRoom', async (input) => ({ outcome: 'reserved' as const, detail: `held on ${input.destination}` })),
    releaseRoom: fake('releaseRoom', async (_input) => true),
    // Admission: nothing else in flight unless a test scripts other migrations (override).
    migrationsInFlight: fake('migrationsInFlight', async (_input) => ({ total: 0, outOf: {}, into: {}, onLink: {}, hostLimits: {} })),
    gatherForecastFacts: fake('gatherForecastFacts', async (_input) => ({ dirtyBps: 2 * MiB, sourceLinkMiBps: null, destinationLinkMiBps: null })),
  };

  return {
    activities,
    calls,
    vm,
    names: () => calls.map((c) => c.name),
    inputsOf: <K extends ActivityName>(name: K) => calls.filter((c) => c.name === name).map((c) => c.input as Parameters<FerryActivities[K]>[0]),
    count: (name) => perName.get(name) ?? 0,
  };
}
