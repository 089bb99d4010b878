/**
 * How `ferry migrate <vm>` starts migrate-<vm uuid> with as few round trips as it can, while one VM
 * still has one migration at a time (the workflow id is the VM's UUID, and the workflow refuses to
 * run under any other id before it changes anything: workflows/steps/pre-checks.ts).
 *
 * - A VM given by UUID: migrate-<uuid> starts at once; the workflow finds the host it runs on (its
 *   source check looks on every host when the request names none).
 * - A VM given by name that Temporal has seen migrate before: its UUID then (visibility, one
 *   query) is a guess the workflow checks. Right (the usual case): nothing else was asked.
 *   Wrong (the name now belongs to another VM): that run is refused before it touches anything,
 *   naming the VM's real UUID, and the migration starts again under it (restartUnderVmsId). A
 *   migration already running under the guessed id may be another VM's: a worker is asked.
 * - Otherwise (a name never migrated, or --detach, whose caller would not see a wrong guess
 *   corrected): a worker locates the VM first (the locateVm workflow), as before, so a
 *   destination that is the VM's own host is refused as a usage error before anything starts.
 */
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { isUuid, type MigrationRequest } from '../model/types';
import type { WorkflowIdMismatch } from '../model/workflow-id-mismatch';
import type { LiveMigrationWorkflow } from '../workflows/definitions';
import { AlreadyMigratingError, type FerryClient } from './ferry-client';
import { refuseDestinationIsSource, type ValidatedRequest } from './request';

/** A started migration and what the CLI knows of its VM. */
export interface StartedMigration {
  workflowId: string;
  runId: string;
  /** host: where a worker located the VM; null when the workflow finds it itself. */
  vm: { name: string; uuid: string; host: string | null };
  /** Started under a UUID guessed from an earlier migration: the workflow may refuse it (WorkflowIdMismatch). */
  guessed: boolean;
  /** How the workflow id was found, for the bench and the curious: 'uuid' given, 'known' from visibility, 'located' by a worker. */
  via: 'uuid' | 'known' | 'located';
}

export interface StartOptions {
  /** --detach: the caller will not wait, so it could not correct a wrong guess: locate first. */
  detach?: boolean;
  /** Says a request error in the terms the operator typed (--to rather than destination.host). */
  inOptionTerms?: <T>(fn: () => T) => T;
}

/** Starts the migration the request asks for, the cheapest safe way (see the file's comment). */
export async function startForVm(client: FerryClient, request: ValidatedRequest, o: StartOptions = {}): Promise<StartedMigration> {
  const vm = request.value.vm;
  // Before anything starts: a migration nobody runs would wait silently in the task queue.
  // Meanwhile, the VM's UUID as Temporal last saw it (a failed lookup only costs the locate).
  const [, known] = await Promise.all([
    client.ensureWorker(),
    isUuid(vm) || o.detach ? Promise.resolve(null) : client.lastKnownVmUuid(vm).catch(() => null),
  ]);
  if (isUuid(vm)) return startUnder(client, request, vm.toLowerCase(), 'uuid');
  if (known !== null) {
    const started = await startUnder(client, request, known, 'known').catch((err: unknown) => {
      // migrate-<guessed uuid> is running: this VM's, or that of the VM the name belonged to before.
      if (err instanceof AlreadyMigratingError) return null;
      throw err;
    });
    if (started) return started;
  }
  return startLocated(client, request, o);
}

/** After a refused guess: the same request under the id of the VM the workflow found. */
export function restartUnderVmsId(client: FerryClient, request: ValidatedRequest, mismatch: WorkflowIdMismatch): Promise<StartedMigration> {
  return startUnder(client, request, mismatch.vmUuid, 'uuid');
}

async function startUnder(client: FerryClient, request: ValidatedRequest, uuid: string, via: 'uuid' | 'known'): Promise<StartedMigration> {
  const handle = await client.startMigration(request, uuid);
  return started(handle, { name: nameOf(request.value), uuid, host: null }, via === 'known', via);
}

async function startLocated(client: FerryClient, request: ValidatedRequest, o: StartOptions): Promise<StartedMigration> {
  const located = await client.findRunningVm(request.value.vm);
  // Where the VM runs is known only now: `--to` that host is refused before anything starts.
  (o.inOptionTerms ?? ((fn) => fn()))(() => refuseDestinationIsSource(request.value, located.host));
  const handle = await client.startMigration(request, located);
  return started(handle, { name: located.name, uuid: located.uuid, host: located.host }, false, 'located');
}

function started(
  handle: WorkflowHandleWithFirstExecutionRunId<LiveMigrationWorkflow>, vm: StartedMigration['vm'], guessed: boolean, via: StartedMigration['via'],
): StartedMigration {
  return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId, vm, guessed, via };
}

const nameOf = (r: MigrationRequest) => r.vm;

