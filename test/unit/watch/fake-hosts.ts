/**
 * Two scripted hypervisors (source and destination) on the fake libvirtd, enough for the watch:
 * domain lookup by UUID, state, job stats, event registration, and events sent on demand.
 */
import { HostConnections } from '../../../activities/connections';
import type { ActivityDeps, MigrationsVisibility, WatchOptions } from '../../../activities/deps';
import { Inventory } from '../../../activities/hosts';
import { DomainEventId, DomainState, JobType, PausedReason, Procedure, RunningReason, type DomainRef } from '../../../activities/libvirt';
import { readUuid, writeDomain } from '../../../activities/libvirt/remote-types';
import { param, writeTypedParams, type TypedParam } from '../../../activities/libvirt/typed-params';
import { XdrReader, XdrWriter } from '../../../activities/libvirt/xdr';
import type { PlacementClient } from '../../../activities/placement';
import type { WatchInput } from '../../../model/activity-contract';
import { FakeLibvirtd, lifecyclePayload, type FakeConnection } from '../libvirt/fake-server';

export const VM: DomainRef = { name: 'web-7', uuid: '5b3c7f3e-2f0e-4a54-9d1c-0f00d0000001', id: 3 };
export const OTHER: DomainRef = { name: 'web-8', uuid: '5b3c7f3e-2f0e-4a54-9d1c-0f00d0000002', id: 4 };
const MiB = 1024 * 1024;

export function precopyJob(iteration: number): TypedParam[] {
  return [
    param.ullong('time_elapsed', 1000 * iteration),
    param.ullong('data_total', 128 * MiB),
    param.ullong('data_processed', 64 * MiB * iteration),
    param.ullong('data_remaining', 40 * MiB),
    param.ullong('memory_iteration', iteration),
    param.ullong('memory_bps', 20 * MiB),
  ];
}

/** One host: what it answers about the VM, and the events it can send. */
export class FakeHypervisor {
  /** The VM's state on this host, or null when the host has no such domain. */
  domain: { state: number; reason: number } | null = null;
  job: { type: number; params: TypedParam[] } = { type: JobType.None, params: [] };
  /** An incoming migration: libvirt 9.0 refuses job stats on the destination (host-view.ts). */
  incoming = false;
  /** Refuse event registration (as a daemon that does not offer it would). */
  refuseEvents = false;
  /** Callback ids by event id, per connection (the daemon assigns them per registration). */
  private readonly callbacks = new Map<FakeConnection, Map<number, number>>();
  private nextCallbackId = 100;

  private constructor(readonly server: FakeLibvirtd) {
    server.handler = (call) => {
      const w = new XdrWriter();
      switch (call.procedure) {
        case Procedure.DomainLookupByUuid: {
          const uuid = readUuid(new XdrReader(call.args));
          if (this.domain === null || uuid !== VM.uuid) {
            call.replyError({ code: 42, domain: 10, message: `Domain not found: no domain with matching uuid '${uuid}'` });
            return;
          }
          writeDomain(w, VM);
          break;
        }
        case Procedure.DomainGetState:
          if (!this.domain) return call.replyError({ code: 42, domain: 10, message: 'Domain not found' });
          w.writeInt(this.domain.state).writeInt(this.domain.reason);
          break;
        case Procedure.DomainGetJobStats:
          if (!this.domain) return call.replyError({ code: 42, domain: 10, message: 'Domain not found' });
          if (this.incoming) {
            return call.replyError({ code: 84, domain: 10, message: 'Operation not supported: migration statistics are available only on the source host' });
          }
          w.writeInt(this.job.type);
          writeTypedParams(w, this.job.params, 64);
          break;
        case Procedure.ConnectDomainEventCallbackRegisterAny: {
          if (this.refuseEvents) {
            call.replyError({ code: 3, domain: 0, message: 'this function is not supported by the connection driver' });
            return;
          }
          const eventId = new XdrReader(call.args).readInt();
          const id = this.nextCallbackId++;
          const byEvent = this.callbacks.get(call.conn) ?? new Map<number, number>();
          byEvent.set(eventId, id);
          this.callbacks.set(call.conn, byEvent);
          w.writeInt(id);
          break;
        }
        default:
          return 'default';
      }
      call.reply(w.toBuffer());
    };
  }

  static async start(): Promise<FakeHypervisor> {
    return new FakeHypervisor(await FakeLibvirtd.start());
  }

  get uri(): string {
    return `qemu+unix:///system?socket=${this.server.socketPath}`;
  }

  /** Calls of a procedure received on every connection so far. */
  count(procedure: number): number {
    return this.server.connections.reduce((n, c) => n + c.calls(procedure).length, 0);
  }

  private callbackId(eventId: number): number {
    const id = this.callbacks.get(this.server.last)?.get(eventId);
    if (id === undefined) throw new Error(`nobody registered for event ${eventId} on the current connection`);
    return id;
  }

  sendIteration(iteration: number, dom: DomainRef = VM): void {
    const w = new XdrWriter().writeInt(this.callbackId(DomainEventId.MigrationIteration));
    writeDomain(w, dom);
    w.writeInt(iteration);
    this.server.last.sendEvent(Procedure.DomainEventCallbackMigrationIteration, w.toBuffer());
  }

  sendJobCompleted(params: TypedParam[], dom: DomainRef = VM): void {
    const w = new XdrWriter().writeInt(this.callbackId(DomainEventId.JobCompleted));
    writeDomain(w, dom);
    writeTypedParams(w, params, 64);
    this.server.last.sendEvent(Procedure.DomainEventCallbackJobCompleted, w.toBuffer());
  }

  sendLifecycle(event: number, detail: number, dom: DomainRef = VM): void {
    this.server.last.sendEvent(Procedure.DomainEventCallbackLifecycle, lifecyclePayload(this.callbackId(DomainEventId.Lifecycle), dom, event, detail));
  }

  async stop(): Promise<void> {
    await this.server.stop();
  }
}

/** Source and destination in pre-copy at `iteration`, and the activity deps that reach them. */
export async function startPair(watch: WatchOptions = {}, pollMs = 20) {
  const source = await FakeHypervisor.start();
  const destination = await FakeHypervisor.start();
  source.domain = { state: DomainState.Running, reason: RunningReason.Booted };
  source.job = { type: JobType.Unbounded, params: precopyJob(3) };
  destination.domain = { state: DomainState.Paused, reason: PausedReason.Migration };
  destination.incoming = true;
  const inventory = new Inventory([
    { name: 'src', uri: source.uri, peerUri: 'qemu+tcp://src/system', rp: '00000000-0000-4000-8000-0000000000a1' },
    { name: 'dst', uri: destination.uri, peerUri: 'qemu+tcp://dst/system', rp: '00000000-0000-4000-8000-0000000000b1' },
  ]);
  const connections = new HostConnections(inventory);
  const deps: ActivityDeps = { inventory, connections, placement: {} as PlacementClient, visibility: {} as MigrationsVisibility, pollMs, watch };
  return {
    source,
    destination,
    deps,
    connections,
    async stop() {
      await connections.closeAll();
      await source.stop();
      await destination.stop();
    },
  };
}

export function watchInput(over: Partial<WatchInput> = {}): WatchInput {
  return {
    vm: { name: VM.name, uuid: VM.uuid, memoryMiB: 128, vcpus: 1 },
    source: 'src',
    destination: 'dst',
    maxWaitMs: 30_000,
    lastIteration: 3,
    lastMode: 'precopy',
    ...over,
  };
}
