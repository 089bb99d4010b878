/**
 * Replays the recorded libvirt replies of test/fixtures/job-stats through a fake libvirtd, so that
 * the real RPC client and the real hostView read exactly what libvirt 9.0 answered on the lab.
 */
import fs from 'node:fs';
import path from 'node:path';
import { HostConnections } from '../../../activities/connections';
import type { ActivityDeps, MigrationsVisibility } from '../../../activities/deps';
import { Inventory } from '../../../activities/hosts';
import {
  DomainState, ErrorCode, PausedReason, Procedure, RunningReason, ShutoffReason, parseJobStats,
  type DomainRef, type JobStats, type TypedParam,
} from '../../../activities/libvirt';
import { readDomain, writeDomain } from '../../../activities/libvirt/remote-types';
import { writeTypedParams } from '../../../activities/libvirt/typed-params';
import { XdrReader, XdrWriter } from '../../../activities/libvirt/xdr';
import type { PlacementClient } from '../../../activities/placement';
import { FakeLibvirtd } from '../libvirt/fake-server';

export type RecordedReply =
  | { type: number; typeName: string; params: Record<string, number | string | boolean>; paramTypes: Record<string, number> }
  | { error: string; code: string };

/** One host at one moment: "paused (Migration)", "none", or "error: <GetState's error>". */
export interface HostSnapshot {
  state: string;
  current: RecordedReply;
  completedKeep: RecordedReply;
}

export interface Moment {
  atMs: number;
  count: number;
  source: HostSnapshot;
  destination: HostSnapshot;
}

export interface JobStatsFixture {
  case: string;
  made: string;
  migrateCall: { ok: boolean; error?: string; code?: string };
  sourceBeforeJob?: { state: string; completedKeep: RecordedReply };
  during: Moment[];
  after: Record<'source' | 'destination', { state: string; current: RecordedReply; completedKeep1: RecordedReply; completedKeep2: RecordedReply; completed1: RecordedReply; completed2: RecordedReply }>;
}

export const FIXTURE_DIR = path.resolve(__dirname, '../../fixtures/job-stats');

export function loadFixture(name: string): JobStatsFixture {
  return JSON.parse(fs.readFileSync(path.join(FIXTURE_DIR, `${name}.json`), 'utf8')) as JobStatsFixture;
}

/** The fixture's moments: every recorded combination while the job ran, then the state after it. */
export function momentsOf(f: JobStatsFixture): Moment[] {
  const after = (h: 'source' | 'destination'): HostSnapshot => ({
    state: f.after[h].state, current: f.after[h].current, completedKeep: f.after[h].completedKeep1,
  });
  return [...f.during, { atMs: Infinity, count: 1, source: after('source'), destination: after('destination') }];
}

function typedParams(reply: Extract<RecordedReply, { params: unknown }>): TypedParam[] {
  return Object.entries(reply.params).map(([field, value]) => {
    const type = reply.paramTypes[field];
    if (typeof value === 'string') return { field, type: 7, value };
    if (typeof value === 'boolean') return { field, type: 6, value };
    return type === 3 || type === 4 ? { field, type, value: BigInt(value) } : { field, type: 1, value };
  });
}

/** A recorded reply as the client parses it (for the pure mapping tests). */
export function statsOf(reply: RecordedReply): JobStats {
  if ('error' in reply) throw new Error(`the recorded reply is an error: ${reply.error}`);
  return parseJobStats(reply.type, typedParams(reply));
}

const REASONS: Record<string, Record<string, number>> = { running: RunningReason, paused: PausedReason, shutoff: ShutoffReason };
const STATES: Record<string, number> = { running: DomainState.Running, paused: DomainState.Paused, shutoff: DomainState.Shutoff };

/** A fake host that answers lookup, state and job stats from the snapshot it currently shows. */
export class ReplayHost {
  snapshot: HostSnapshot | null = null;
  private constructor(readonly server: FakeLibvirtd, readonly dom: DomainRef) {
    server.handler = (call) => {
      const s = this.snapshot;
      const w = new XdrWriter();
      const fail = (code: string, message: string) =>
        call.replyError({ code: ErrorCode[code as keyof typeof ErrorCode] ?? ErrorCode.InternalError, domain: 10, message });
      switch (call.procedure) {
        case Procedure.DomainLookupByUuid:
          if (!s || s.state === 'none') return fail('NoDomain', 'Domain not found');
          writeDomain(w, this.dom);
          break;
        case Procedure.DomainGetState: {
          if (!s || s.state.startsWith('error: ')) return fail('NoDomain', s?.state.slice(7) ?? 'Domain not found');
          const m = /^(\w+) \((\w+)\)$/.exec(s.state);
          if (!m) throw new Error(`unparsed state '${s.state}'`);
          w.writeInt(STATES[m[1]!]!).writeInt(REASONS[m[1]!]![m[2]!]!);
          break;
        }
        case Procedure.DomainGetJobStats: {
          const r = new XdrReader(call.args);
          readDomain(r);
          const flags = r.readUint();
          const reply = flags === 0 ? s!.current : s!.completedKeep;
          if ('error' in reply) return fail(reply.code, reply.error);
          w.writeInt(reply.type);
          writeTypedParams(w, typedParams(reply), 64);
          break;
        }
        default:
          return 'default';
      }
      call.reply(w.toBuffer());
    };
  }

  static async start(dom: DomainRef): Promise<ReplayHost> {
    return new ReplayHost(await FakeLibvirtd.start(), dom);
  }

  get uri(): string {
    return `qemu+unix:///system?socket=${this.server.socketPath}`;
  }

  /** GetJobStats calls received so far, with their flags. */
  jobStatsCalls(): number[] {
    return this.server.connections.flatMap((c) => c.calls(Procedure.DomainGetJobStats)).map((p) => {
      const r = new XdrReader(p.payload);
      readDomain(r);
      return r.readUint();
    });
  }

  async stop(): Promise<void> {
    await this.server.stop();
  }
}

export const VM: DomainRef = { name: 'sit-rec', uuid: '5b3c7f3e-2f0e-4a54-9d1c-0f00d00000aa', id: 7 };

export async function startReplayPair() {
  const source = await ReplayHost.start(VM);
  const destination = await ReplayHost.start(VM);
  const inventory = new Inventory([
    { name: 'host-a', uri: source.uri, peerUri: 'qemu+tcp://host-a/system', rp: '00000000-0000-4000-8000-0000000000a1' },
    { name: 'host-b', uri: destination.uri, peerUri: 'qemu+tcp://host-b/system', rp: '00000000-0000-4000-8000-0000000000b1' },
  ]);
  const connections = new HostConnections(inventory);
  const deps: ActivityDeps = { inventory, connections, placement: {} as PlacementClient, visibility: {} as MigrationsVisibility };
  return {
    source,
    destination,
    deps,
    async stop() {
      await connections.closeAll();
      await source.stop();
      await destination.stop();
    },
  };
}
