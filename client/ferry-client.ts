/**
 * The typed client of ferry, for the CLI and for other services: it reaches ferry through
 * Temporal only (the VM is located by a worker, behind Temporal), with the workflow's own schemas.
 * Errors it raises on purpose are FerryErrors (errors.ts) that say what was wrong.
 */
import { randomUUID } from 'node:crypto';
import {
  Client, Connection, isGrpcServiceError, NamespaceNotFoundError, ServiceError, WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type WorkflowExecutionInfo, type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import type { LocateVmResult } from '../model/activity-contract';
import { FerryDestination, FerryOutcome, FerryPhase, FerrySource, FerryVmName, FerryVmUuid } from '../model/search-attributes';
import { ConvergencePolicySchema } from '../model/convergence-policy';
import { migrationStaticDetails, migrationSummary } from '../model/migration-metadata';
import { isUuid, migrationWorkflowId, type MigrationRequestInput, type Outcome } from '../model/types';
import {
  abortUpdate, decisionsQuery, forceCompleteUpdate, resumeRecoveryUpdate, LIVE_MIGRATION_WORKFLOW_TYPE, LOCATE_VM_WORKFLOW_TYPE, policyQuery,
  progressQuery, setBandwidthUpdate, setMaxDowntimeUpdate, type LiveMigrationWorkflow, type LocateVmWorkflow,
} from '../workflows/definitions';
import { describeTarget, describeTaskQueue, type ClientConfig } from './config';
import { FerryError, RefusedError, UnavailableError } from './errors';
import { rootFailure } from './outcome-format';
import { parseMigrationRef, parseVmRef, type MigrationRef, type VmRef } from './refs';
import { refuseDestinationIsSource, ValidatedRequest } from './request';
import { connectionOptions } from './temporal-connection';
import { migrationsQuery, type MigrationFilters } from './visibility';

export type { ClientConfig } from './config';

/** How long a VM lookup may take before the client says no worker answered. */
const LOCATE_TIMEOUT_MS = 60_000;
/** temporal.api.enums.v1.TaskQueueType (the proto enum is not exported by @temporalio/client). */
const TASK_QUEUE_TYPE_WORKFLOW = 1;
const TASK_QUEUE_TYPE_ACTIVITY = 2;
const TASK_QUEUE_KIND_NORMAL = 1;
/** grpc status codes: the server is not there; it has no such thing. */
const GRPC_UNAVAILABLE = 14;
const GRPC_NOT_FOUND = 5;

export class AlreadyMigratingError extends RefusedError {
  constructor(readonly workflowId: string) {
    super(`a migration of this VM is already running: ${workflowId} (ferry status ${workflowId})`, { workflowId });
  }
}

/** Where the VM to migrate runs, as the worker found it. */
export interface LocatedVm {
  uuid: string;
  name: string;
  host: string;
  /** Every host the worker knows. */
  hosts: string[];
}

/** One migration (one workflow run) from Temporal visibility. */
export interface MigrationSummary {
  workflowId: string;
  runId: string;
  /** running, completed, failed, canceled, terminated, timed-out, continued-as-new */
  status: string;
  startTime: Date;
  closeTime: Date | null;
  vm: string | null;
  vmUuid: string | null;
  source: string | null;
  destination: string | null;
  phase: string | null;
  outcome: string | null;
}

/** RUNNING -> running, TIMED_OUT -> timed-out, CANCELLED -> canceled (the `--status` words). */
export function statusWord(name: string): string {
  return name === 'CANCELLED' ? 'canceled' : name.toLowerCase().replace(/_/g, '-');
}

export class FerryClient {
  private constructor(
    readonly client: Client,
    private readonly connection: Connection,
    readonly config: ClientConfig,
  ) {}

  get taskQueue(): string {
    return this.config.taskQueue;
  }

  /** Temporal's operator service on this connection (`ferry setup` registers search attributes through it). */
  get operatorService(): Connection['operatorService'] {
    return this.connection.operatorService;
  }

  /** Connects and checks that the namespace exists; an error names the address, namespace and settings tried. */
  static async connect(config: ClientConfig): Promise<FerryClient> {
    let connection: Connection;
    try {
      connection = await Connection.connect(connectionOptions(config));
    } catch (err) {
      throw err instanceof FerryError ? err : unreachable(config, err);
    }
    try {
      await connection.workflowService.describeNamespace({ namespace: config.namespace });
    } catch (err) {
      await connection.close().catch(() => undefined);
      if (isGrpcServiceError(err) && err.code === GRPC_NOT_FOUND) throw namespaceMissing(config);
      throw unreachable(config, err);
    }
    return new FerryClient(new Client({ connection, namespace: config.namespace }), connection, config);
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  /** Throws an UnavailableError unless a worker polls the task queue for workflows and for activities. */
  async ensureWorker(): Promise<void> {
    const pollers = (taskQueueType: number) =>
      this.rpc(async () => {
        const r = await this.connection.workflowService.describeTaskQueue({
          namespace: this.config.namespace,
          taskQueue: { name: this.config.taskQueue, kind: TASK_QUEUE_KIND_NORMAL },
          taskQueueType,
        });
        return r.pollers?.length ?? 0;
      });
    const [workflows, activities] = await Promise.all([pollers(TASK_QUEUE_TYPE_WORKFLOW), pollers(TASK_QUEUE_TYPE_ACTIVITY)]);
    if (workflows === 0 || activities === 0) {
      throw new UnavailableError(
        `no worker polls ${describeTaskQueue(this.config)} at ${describeTarget(this.config)} ` +
          `(${workflows} workflow and ${activities} activity pollers): start one with 'ferry worker' and the same ` +
          'Temporal configuration (TEMPORAL_* or profile) and FERRY_TASK_QUEUE; nothing was started',
        { taskQueue: this.config.taskQueue, namespace: this.config.namespace, address: this.config.address, workflowPollers: workflows, activityPollers: activities },
      );
    }
  }

  /** Where a VM (name or UUID) is defined and in what state, on every host the worker knows. */
  async locateVm(vm: string): Promise<LocateVmResult> {
    return this.rpc(async () => {
      const handle = await this.client.workflow.start<LocateVmWorkflow>(LOCATE_VM_WORKFLOW_TYPE, {
        taskQueue: this.config.taskQueue,
        workflowId: `locate-vm-${randomUUID()}`,
        args: [{ vm }],
        workflowExecutionTimeout: LOCATE_TIMEOUT_MS,
      });
      try {
        return await handle.result();
      } catch (err) {
        if (!(err instanceof WorkflowFailedError)) throw err;
        throw new UnavailableError(
          `the worker could not locate VM '${vm}' (workflow ${handle.workflowId} on ${describeTaskQueue(this.config)}): ${rootFailure(err).message}`,
          { workflowId: handle.workflowId },
        );
      }
    });
  }

  /** The one host a VM runs (or is paused) on; a refusal that says where it was seen otherwise. */
  async findRunningVm(vm: string): Promise<LocatedVm> {
    const r = await this.locateVm(vm);
    const live = r.found.filter((f) => f.state === 'running' || f.state === 'paused');
    if (live.length === 1) return { uuid: live[0]!.uuid.toLowerCase(), name: live[0]!.name, host: live[0]!.host, hosts: r.hosts };
    const seen = r.found.map((f) => `${f.host} (${f.state}${f.reason ? `, ${f.reason}` : ''})`);
    const silent = r.unreachable.map((u) => `${u.host} (${u.error})`);
    const facts = { vm, found: r.found, unreachable: r.unreachable, hosts: r.hosts };
    if (live.length > 1) {
      // Source and incoming destination of a migration ferry runs: say that, with its id.
      const uuids = new Set(live.map((f) => f.uuid.toLowerCase()));
      if (uuids.size === 1) {
        const id = migrationWorkflowId([...uuids][0]!);
        const d = await this.handle(id).describe().catch(() => undefined);
        if (d?.status.name === 'RUNNING') throw new AlreadyMigratingError(id);
      }
      throw new RefusedError(`VM '${vm}' runs on several hosts: ${seen.join(', ')}; ferry will not guess which one to move`, facts);
    }
    throw new RefusedError(
      `VM '${vm}' runs on none of the hosts ferry knows (${r.hosts.join(', ')})` +
        (seen.length > 0 ? `; it is defined on ${seen.join(', ')}` : '; no host has a VM of that name or UUID') +
        (silent.length > 0 ? `; not answering: ${silent.join(', ')}` : ''),
      facts,
    );
  }

  /**
   * The UUID the VM of this name had in its newest migration Temporal knows (visibility: its
   * FerryVmName and FerryVmUuid), or null. A hint, never a fact: a name may since belong to another
   * VM, which the workflow finds out before it changes anything (it refuses to run under an id
   * that is not its VM's, naming the VM's real UUID: model/workflow-id-mismatch.ts).
   */
  async lastKnownVmUuid(name: string): Promise<string | null> {
    const rows = await this.list({ vm: { name } }, 5);
    const uuid = rows.find((r) => r.vmUuid !== null && isUuid(r.vmUuid))?.vmUuid;
    return uuid ? uuid.toLowerCase() : null;
  }

  /**
   * Starts a migration: the request is checked once (unless it already was), the VM located by a
   * worker (unless the caller located it, or knows its UUID), the workflow started as
   * `migrate-<vm uuid>` so that a second migration of the same VM is refused. A destination that
   * is the host the located VM runs on is a UsageError, before anything starts.
   */
  async startMigration(
    request: ValidatedRequest | MigrationRequestInput | Record<string, unknown>,
    vm?: LocatedVm | string,
  ): Promise<WorkflowHandleWithFirstExecutionRunId<LiveMigrationWorkflow>> {
    const req = request instanceof ValidatedRequest ? request.value : ValidatedRequest.from(request).value;
    const located = typeof vm === 'string' ? undefined : (vm ?? (await this.findRunningVm(req.vm)));
    const wanted = req.destination?.host;
    if (located && wanted !== undefined && !located.hosts.includes(wanted)) {
      throw new RefusedError(`unknown host '${wanted}': ferry knows ${located.hosts.join(', ')}`, { host: wanted, hosts: located.hosts });
    }
    if (located) refuseDestinationIsSource(req, located.host);
    const uuid = located?.uuid ?? (vm as string).toLowerCase();
    const workflowId = migrationWorkflowId(uuid);
    const policy = ConvergencePolicySchema.parse(req.policy ?? {});
    return this.rpc(async () => {
      try {
        return await this.client.workflow.start<LiveMigrationWorkflow>(LIVE_MIGRATION_WORKFLOW_TYPE, {
          taskQueue: this.config.taskQueue,
          workflowId,
          args: [req],
          // Searchable at once (the workflow upserts the same after its pre-checks).
          typedSearchAttributes: located
            ? [
                { key: FerryVmUuid, value: located.uuid },
                { key: FerryVmName, value: located.name },
                { key: FerrySource, value: located.host },
              ]
            : [{ key: FerryVmUuid, value: uuid }],
          // How the Temporal UI and CLI show it: one line, the request and policy in full, and a
          // memo with both (the workflow adds post-copy eligibility once the pre-checks resolved it).
          staticSummary: migrationSummary(req, located?.host ?? req.source, policy),
          staticDetails: migrationStaticDetails(req, policy),
          memo: { request: req, policy },
        });
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) throw new AlreadyMigratingError(workflowId);
        throw err;
      }
    });
  }

  /**
   * The workflow id a reference means: `migrate-<uuid>` as is, a VM UUID as `migrate-<uuid>`, a VM
   * name as its newest migration (a running one first).
   */
  async resolveMigration(ref: string | MigrationRef): Promise<string> {
    const r = typeof ref === 'string' ? parseMigrationRef(ref) : ref;
    if (r.kind === 'id') return r.workflowId;
    const rows = await this.list({ vm: { name: r.name } }, 100);
    if (rows.length === 0) {
      throw new RefusedError(`no migration of VM '${r.name}' is known in namespace '${this.config.namespace}' (ferry list shows the known ones)`, {
        vm: r.name,
      });
    }
    return (rows.find((m) => m.status === 'running') ?? rows[0]!).workflowId;
  }

  handle(workflowId: string): WorkflowHandle<LiveMigrationWorkflow> {
    return this.client.workflow.getHandle<LiveMigrationWorkflow>(workflowId);
  }

  describe(workflowId: string) {
    return this.rpc(() => this.handle(workflowId).describe(), workflowId);
  }
  result(workflowId: string): Promise<Outcome> {
    return this.handle(workflowId).result();
  }
  progress(workflowId: string) {
    return this.rpc(() => this.handle(workflowId).query(progressQuery), workflowId);
  }
  policy(workflowId: string) {
    return this.rpc(() => this.handle(workflowId).query(policyQuery), workflowId);
  }
  decisions(workflowId: string) {
    return this.rpc(() => this.handle(workflowId).query(decisionsQuery), workflowId);
  }
  abort(workflowId: string, reason?: string) {
    return this.update(workflowId, () => this.handle(workflowId).executeUpdate(abortUpdate, { args: [reason ? { reason } : {}] }));
  }
  forceComplete(workflowId: string) {
    return this.update(workflowId, () => this.handle(workflowId).executeUpdate(forceCompleteUpdate, { args: [{}] }));
  }
  resumeRecovery(workflowId: string) {
    return this.update(workflowId, () => this.handle(workflowId).executeUpdate(resumeRecoveryUpdate, { args: [{}] }));
  }
  setMaxDowntime(workflowId: string, ms: number) {
    return this.update(workflowId, () => this.handle(workflowId).executeUpdate(setMaxDowntimeUpdate, { args: [{ ms }] }));
  }
  setBandwidth(workflowId: string, mibps: number) {
    return this.update(workflowId, () => this.handle(workflowId).executeUpdate(setBandwidthUpdate, { args: [{ mibps }] }));
  }

  /** Migrations from Temporal visibility, newest first. */
  async list(filters: MigrationFilters = {}, limit = 50): Promise<MigrationSummary[]> {
    return this.rpc(async () => {
      const out: MigrationSummary[] = [];
      for await (const w of this.client.workflow.list({ query: migrationsQuery(filters), pageSize: Math.min(limit, 1000) })) {
        out.push(summary(w));
        if (out.length >= limit) break;
      }
      return out.sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
    });
  }

  /** Every migration of one VM (by name or UUID, or a migration id), newest first. */
  history(vm: VmRef | string, limit = 500): Promise<MigrationSummary[]> {
    return this.list({ vm: typeof vm === 'string' ? parseVmRef(vm) : vm }, limit);
  }

  /** Runs an update; a validator's refusal, or a migration that is over, is a RefusedError saying why. */
  private async update<T>(workflowId: string, fn: () => Promise<T>): Promise<T> {
    return this.rpc(async () => {
      try {
        return await fn();
      } catch (err) {
        if (err instanceof WorkflowUpdateFailedError) throw new RefusedError(rootFailure(err).message, { workflowId });
        // Temporal answers "not found" for an update to a closed workflow too: say which it is.
        if (err instanceof WorkflowNotFoundError || (isGrpcServiceError(err) && err.code === GRPC_NOT_FOUND)) {
          const closed = await this.handle(workflowId).describe().catch(() => undefined);
          if (closed) {
            throw new RefusedError(`migration ${workflowId} is over (${statusWord(closed.status.name)}): only a running migration can be changed`, {
              workflowId,
              status: statusWord(closed.status.name),
            });
          }
        }
        throw err;
      }
    }, workflowId);
  }

  /** Maps what Temporal answers to FerryErrors: not reachable, no such namespace, no such migration (drain-client.ts uses it too). */
  async rpc<T>(fn: () => Promise<T>, workflowId?: string): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof FerryError) throw err;
      if (err instanceof WorkflowNotFoundError) {
        throw new RefusedError(`no migration ${workflowId ?? ''} in namespace '${this.config.namespace}' (ferry list shows the known ones)`, {
          workflowId,
        });
      }
      if (err instanceof NamespaceNotFoundError) throw namespaceMissing(this.config);
      const grpc = isGrpcServiceError(err) ? err : err instanceof ServiceError && isGrpcServiceError(err.cause) ? err.cause : undefined;
      if (grpc?.code === GRPC_UNAVAILABLE) throw unreachable(this.config, err);
      throw err;
    }
  }
}

/** A migration as visibility (or a describe) shows it: ids, status, times, ferry's search attributes. */
export function summary(w: Omit<WorkflowExecutionInfo, 'raw'>): MigrationSummary {
  const sa = w.typedSearchAttributes;
  return {
    workflowId: w.workflowId,
    runId: w.runId,
    status: statusWord(w.status.name),
    startTime: w.startTime,
    closeTime: w.closeTime ?? null,
    vm: sa.get(FerryVmName) ?? null,
    vmUuid: sa.get(FerryVmUuid) ?? null,
    source: sa.get(FerrySource) ?? null,
    destination: sa.get(FerryDestination) ?? null,
    phase: sa.get(FerryPhase) ?? null,
    outcome: sa.get(FerryOutcome) ?? null,
  };
}

function unreachable(c: ClientConfig, err: unknown): UnavailableError {
  const why = err instanceof Error ? err.message : String(err);
  return new UnavailableError(
    `cannot reach Temporal at ${describeTarget(c)}: ${why}. Is the Temporal server running there? ` +
      'Set TEMPORAL_ADDRESS (and TEMPORAL_NAMESPACE, TEMPORAL_TLS_*, TEMPORAL_API_KEY), or a profile with TEMPORAL_PROFILE, to reach another one.',
    { address: c.address, namespace: c.namespace, addressFrom: c.origin.address, namespaceFrom: c.origin.namespace, cause: why },
  );
}

function namespaceMissing(c: ClientConfig): UnavailableError {
  return new UnavailableError(
    `namespace '${c.namespace}' (${c.origin.namespace}) does not exist at ${c.address} (${c.origin.address}): set TEMPORAL_NAMESPACE or the profile's namespace`,
    { address: c.address, namespace: c.namespace, addressFrom: c.origin.address, namespaceFrom: c.origin.namespace },
  );
}
