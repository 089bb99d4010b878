/**
 * LibvirtClient: one typed method per libvirt procedure, over libvirt's own RPC protocol.
 * Modelled on digitalocean/go-libvirt. Errors from the daemon are LibvirtError with libvirt's codes.
 */
import { type CallParams, type EventSubscription, type LibvirtClientOptions } from './client-core';
import { describeDomainState, type DomainStateInfo } from './domain-state';
import {
  DomainEventId,
  type DomainJobCompletedEvent,
  type DomainLifecycleEvent,
  type DomainMigrationIterationEvent,
} from './events';
import { parseJobStats, type JobStats } from './job-stats';
import { Limits, Procedure } from './protocol';
import { LibvirtStorageCalls } from './storage';
import {
  decodeVersion,
  readDomain,
  readNonnullString,
  safeNumber,
  writeDomain,
  writeNonnullString,
  writeOptString,
  writeUuid,
  type DomainRef,
  type Version,
} from './remote-types';
import { readTypedParams, writeTypedParams, type TypedParam } from './typed-params';
import type { XdrReader, XdrWriter } from './xdr';

export interface NodeInfo {
  model: string;
  memoryKiB: number;
  cpus: number;
  mhz: number;
  nodes: number;
  sockets: number;
  cores: number;
  threads: number;
}

export interface DomainCapabilitiesQuery {
  emulatorBin?: string;
  arch?: string;
  machine?: string;
  virtType?: string;
  flags?: number;
}

export interface MigratePerformParams {
  /** Destination libvirt URI as the SOURCE daemon will reach it, e.g. "qemu+tcp://host-b/system". */
  dconnuri: string;
  params: readonly TypedParam[];
  flags: number;
  /** Normally empty for peer-to-peer: the source daemon runs the whole cookie exchange itself. */
  cookieIn?: Buffer;
  /** Default: no deadline (the call returns when the migration ends). */
  timeoutMs?: number;
}

const dom = (d: DomainRef) => (w: XdrWriter) => writeDomain(w, d);
const domFlags = (d: DomainRef, flags: number) => (w: XdrWriter) => {
  writeDomain(w, d);
  w.writeUint(flags);
};
const readString = (r: XdrReader) => readNonnullString(r);
const readUhyperNumber = (what: string) => (r: XdrReader) => safeNumber(r.readUhyper(), what);

export class LibvirtClient extends LibvirtStorageCalls {
  /** Connects, authenticates (none/polkit), opens the driver and negotiates keepalive. */
  static async connect(options: LibvirtClientOptions): Promise<LibvirtClient> {
    const client = new LibvirtClient(options);
    await client.establish();
    return client;
  }

  // ---- connection and node --------------------------------------------------------------

  getHostname(p?: CallParams): Promise<string> {
    return this.call(Procedure.ConnectGetHostname, undefined, readString, p);
  }

  /** libvirt version of the daemon. */
  async getLibVersion(p?: CallParams): Promise<Version> {
    return decodeVersion(await this.call(Procedure.ConnectGetLibVersion, undefined, readUhyperNumber('lib_ver'), p));
  }

  /** Hypervisor (QEMU) version. */
  async getVersion(p?: CallParams): Promise<Version> {
    return decodeVersion(await this.call(Procedure.ConnectGetVersion, undefined, readUhyperNumber('hv_ver'), p));
  }

  getUri(p?: CallParams): Promise<string> {
    return this.call(Procedure.ConnectGetUri, undefined, readString, p);
  }

  supportsFeature(feature: number, p?: CallParams): Promise<boolean> {
    return this.call(Procedure.ConnectSupportsFeature, (w) => w.writeInt(feature), (r) => r.readInt() === 1, p);
  }

  getCapabilities(p?: CallParams): Promise<string> {
    return this.call(Procedure.ConnectGetCapabilities, undefined, readString, p);
  }

  getDomainCapabilities(q: DomainCapabilitiesQuery = {}, p?: CallParams): Promise<string> {
    return this.call(
      Procedure.ConnectGetDomainCapabilities,
      (w) => {
        writeOptString(w, q.emulatorBin);
        writeOptString(w, q.arch);
        writeOptString(w, q.machine);
        writeOptString(w, q.virtType);
        w.writeUint(q.flags ?? 0);
      },
      readString,
      p,
    );
  }

  nodeGetInfo(p?: CallParams): Promise<NodeInfo> {
    return this.call(
      Procedure.NodeGetInfo,
      undefined,
      (r) => {
        // `char model[32]`: rpcgen encodes each char as a 4-byte XDR int.
        const chars: number[] = [];
        for (let i = 0; i < 32; i++) chars.push(r.readInt() & 0xff);
        const end = chars.indexOf(0);
        const model = Buffer.from(end >= 0 ? chars.slice(0, end) : chars).toString('latin1');
        return {
          model,
          memoryKiB: safeNumber(r.readUhyper(), 'memory'),
          cpus: r.readInt(),
          mhz: r.readInt(),
          nodes: r.readInt(),
          sockets: r.readInt(),
          cores: r.readInt(),
          threads: r.readInt(),
        };
      },
      p,
    );
  }

  /** Free memory of the host in bytes. */
  nodeGetFreeMemory(p?: CallParams): Promise<number> {
    return this.call(Procedure.NodeGetFreeMemory, undefined, readUhyperNumber('freeMem'), p);
  }

  /** virConnectCompareHypervisorCPU: one of CpuCompareResult. */
  connectCompareHypervisorCpu(
    xmlCpu: string,
    q: { emulator?: string; arch?: string; machine?: string; virtType?: string; flags?: number } = {},
    p?: CallParams,
  ): Promise<number> {
    return this.call(
      Procedure.ConnectCompareHypervisorCpu,
      (w) => {
        writeOptString(w, q.emulator);
        writeOptString(w, q.arch);
        writeOptString(w, q.machine);
        writeOptString(w, q.virtType);
        writeNonnullString(w, xmlCpu);
        w.writeUint(q.flags ?? 0);
      },
      (r) => r.readInt(),
      p,
    );
  }

  // ---- domains: lookup and life cycle ----------------------------------------------------

  lookupDomainByName(name: string, p?: CallParams): Promise<DomainRef> {
    return this.call(Procedure.DomainLookupByName, (w) => writeNonnullString(w, name), readDomain, p);
  }

  lookupDomainByUuid(uuid: string, p?: CallParams): Promise<DomainRef> {
    return this.call(Procedure.DomainLookupByUuid, (w) => writeUuid(w, uuid), readDomain, p);
  }

  lookupDomainById(id: number, p?: CallParams): Promise<DomainRef> {
    return this.call(Procedure.DomainLookupById, (w) => w.writeInt(id), readDomain, p);
  }

  /** virConnectListAllDomains with ListAllDomainsFlags (0 = all). */
  listAllDomains(flags = 0, p?: CallParams): Promise<DomainRef[]> {
    return this.call(
      Procedure.ConnectListAllDomains,
      (w) => {
        w.writeInt(1); // need_results
        w.writeUint(flags);
      },
      (r) => {
        const domains = r.readArray(readDomain, Limits.DOMAIN_LIST_MAX);
        r.readUint(); // ret: the count again
        return domains;
      },
      p,
    );
  }

  domainGetXmlDesc(d: DomainRef, flags = 0, p?: CallParams): Promise<string> {
    return this.call(Procedure.DomainGetXmlDesc, domFlags(d, flags), readString, p);
  }

  domainGetState(d: DomainRef, p?: CallParams): Promise<DomainStateInfo> {
    return this.call(Procedure.DomainGetState, domFlags(d, 0), (r) => describeDomainState(r.readInt(), r.readInt()), p);
  }

  domainIsActive(d: DomainRef, p?: CallParams): Promise<boolean> {
    return this.call(Procedure.DomainIsActive, dom(d), (r) => r.readInt() === 1, p);
  }

  domainDefineXml(xml: string, flags = 0, p?: CallParams): Promise<DomainRef> {
    return this.call(
      Procedure.DomainDefineXmlFlags,
      (w) => {
        writeNonnullString(w, xml);
        w.writeUint(flags);
      },
      readDomain,
      p,
    );
  }

  /** Starts a defined domain; returns it with its new id. */
  domainCreate(d: DomainRef, flags = 0, p?: CallParams): Promise<DomainRef> {
    return this.call(Procedure.DomainCreateWithFlags, domFlags(d, flags), readDomain, p);
  }

  domainDestroy(d: DomainRef, flags = 0, p?: CallParams): Promise<void> {
    return this.call(Procedure.DomainDestroyFlags, domFlags(d, flags), undefined, p);
  }

  domainUndefine(d: DomainRef, flags = 0, p?: CallParams): Promise<void> {
    return this.call(Procedure.DomainUndefineFlags, domFlags(d, flags), undefined, p);
  }

  domainSuspend(d: DomainRef, p?: CallParams): Promise<void> {
    return this.call(Procedure.DomainSuspend, dom(d), undefined, p);
  }

  domainResume(d: DomainRef, p?: CallParams): Promise<void> {
    return this.call(Procedure.DomainResume, dom(d), undefined, p);
  }

  // ---- jobs and migration ----------------------------------------------------------------

  /** virDomainGetJobStats with JobStatsFlags (Completed, KeepCompleted). */
  domainGetJobStats(d: DomainRef, flags = 0, p?: CallParams): Promise<JobStats> {
    return this.call(
      Procedure.DomainGetJobStats,
      domFlags(d, flags),
      (r) => {
        const type = r.readInt();
        return parseJobStats(type, readTypedParams(r, Limits.JOB_STATS_MAX));
      },
      p,
    );
  }

  /**
   * virDomainStartDirtyRateCalc: QEMU samples the guest's pages for `seconds` (page sampling: works
   * under KVM and TCG alike); the result is read with connectGetAllDomainStats(DomainStatsTypes.DirtyRate).
   */
  domainStartDirtyRateCalc(d: DomainRef, seconds: number, flags = 0, p?: CallParams): Promise<void> {
    return this.call(
      Procedure.DomainStartDirtyRateCalc,
      (w) => {
        writeDomain(w, d);
        w.writeInt(seconds);
        w.writeUint(flags);
      },
      undefined,
      p,
    );
  }

  /** virConnectGetAllDomainStats for the given domains (none: every domain) and stats groups. */
  connectGetAllDomainStats(doms: readonly DomainRef[], stats: number, flags = 0, p?: CallParams): Promise<Array<{ domain: DomainRef; params: TypedParam[] }>> {
    return this.call(
      Procedure.ConnectGetAllDomainStats,
      (w) => {
        w.writeUint(doms.length);
        for (const d of doms) writeDomain(w, d);
        w.writeUint(stats);
        w.writeUint(flags);
      },
      (r) => r.readArray((x) => ({ domain: readDomain(x), params: readTypedParams(x, Limits.DOMAIN_STATS_PARAMS_MAX) }), Limits.DOMAIN_LIST_MAX),
      p,
    );
  }

  /**
   * virDomainMigratePerform3Params as a peer-to-peer migration (flags include Peer2Peer): the
   * source daemon drives the whole migration and this call returns when it has ended.
   * Returns the cookie the daemon sent back (empty for peer-to-peer).
   */
  domainMigratePerform3Params(d: DomainRef, m: MigratePerformParams): Promise<Buffer> {
    return this.call(
      Procedure.DomainMigratePerform3Params,
      (w) => {
        writeDomain(w, d);
        writeOptString(w, m.dconnuri);
        writeTypedParams(w, m.params, Limits.MIGRATE_PARAM_LIST_MAX);
        w.writeVarOpaque(m.cookieIn ?? Buffer.alloc(0), Limits.MIGRATE_COOKIE_MAX);
        w.writeUint(m.flags);
      },
      (r) => r.readVarOpaque(Limits.MIGRATE_COOKIE_MAX),
      { timeoutMs: m.timeoutMs ?? 0 },
    );
  }

  domainMigrateStartPostCopy(d: DomainRef, flags = 0, p?: CallParams): Promise<void> {
    return this.call(Procedure.DomainMigrateStartPostCopy, domFlags(d, flags), undefined, p);
  }

  domainAbortJob(d: DomainRef, p?: CallParams): Promise<void> {
    return this.call(Procedure.DomainAbortJob, dom(d), undefined, p);
  }

  /** With AbortJobFlags.Postcopy, aborts a post-copy migration too (leaving it paused/failed). */
  domainAbortJobFlags(d: DomainRef, flags: number, p?: CallParams): Promise<void> {
    return this.call(Procedure.DomainAbortJobFlags, domFlags(d, flags), undefined, p);
  }

  domainMigrateSetMaxDowntime(d: DomainRef, downtimeMs: number, flags = 0, p?: CallParams): Promise<void> {
    return this.call(
      Procedure.DomainMigrateSetMaxDowntime,
      (w) => {
        writeDomain(w, d);
        w.writeUhyper(downtimeMs);
        w.writeUint(flags);
      },
      undefined,
      p,
    );
  }

  /** Max downtime in ms. */
  domainMigrateGetMaxDowntime(d: DomainRef, flags = 0, p?: CallParams): Promise<number> {
    return this.call(Procedure.DomainMigrateGetMaxDowntime, domFlags(d, flags), readUhyperNumber('downtime'), p);
  }

  /** Bandwidth in MiB/s; MigrateMaxSpeedFlags.Postcopy sets the post-copy limit. */
  domainMigrateSetMaxSpeed(d: DomainRef, bandwidthMiBs: number, flags = 0, p?: CallParams): Promise<void> {
    return this.call(
      Procedure.DomainMigrateSetMaxSpeed,
      (w) => {
        writeDomain(w, d);
        w.writeUhyper(bandwidthMiBs);
        w.writeUint(flags);
      },
      undefined,
      p,
    );
  }

  /** Bandwidth in MiB/s. */
  domainMigrateGetMaxSpeed(d: DomainRef, flags = 0, p?: CallParams): Promise<number> {
    return this.call(Procedure.DomainMigrateGetMaxSpeed, domFlags(d, flags), readUhyperNumber('bandwidth'), p);
  }

  // ---- events ----------------------------------------------------------------------------

  /** Lifecycle events (started, suspended incl. post-copy, resumed, stopped...), all domains or one. */
  onLifecycle(handler: (e: DomainLifecycleEvent) => void, domain?: DomainRef): Promise<EventSubscription> {
    return this.subscribeDomainEvent(DomainEventId.Lifecycle, handler, { domain });
  }

  /** One event per new pre-copy pass of a migration (source side). */
  onMigrationIteration(handler: (e: DomainMigrationIterationEvent) => void, domain?: DomainRef): Promise<EventSubscription> {
    return this.subscribeDomainEvent(DomainEventId.MigrationIteration, handler, { domain });
  }

  /** Final statistics when a job (e.g. an outgoing migration) completes. */
  onJobCompleted(handler: (e: DomainJobCompletedEvent) => void, domain?: DomainRef): Promise<EventSubscription> {
    return this.subscribeDomainEvent(DomainEventId.JobCompleted, handler, { domain });
  }
}
