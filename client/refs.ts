/**
 * What an operator may type where a migration or a VM is expected: a workflow id `migrate-<uuid>`,
 * a VM UUID, or a VM name. Checked before anything is contacted (a UsageError otherwise). What
 * starts with `migrate-` is a migration id, typed right or refused: never looked up as a VM name
 * (a VM whose name starts with migrate- is given by its UUID).
 */
import { HostNameSchema, isUuid, migrationWorkflowId, migrationWorkflowIdProblem, vmUuidFromWorkflowId, VmRefSchema } from '../model/types';
import { UsageError } from './errors';

export type VmRef = { name: string } | { uuid: string };

export type MigrationRef =
  /** A workflow id, or a VM UUID turned into one: used as is. */
  | { kind: 'id'; workflowId: string }
  /** A VM name: the newest migration whose FerryVmName matches (a running one first). */
  | { kind: 'name'; name: string };

/** The VM UUID in a workflow id (any case) or the UUID itself; null for anything else. */
function uuidIn(ref: string): string | null {
  return vmUuidFromWorkflowId(ref.toLowerCase()) ?? (isUuid(ref) ? ref.toLowerCase() : null);
}

export function parseMigrationRef(ref: string): MigrationRef {
  const uuid = uuidIn(ref);
  if (uuid) return { kind: 'id', workflowId: migrationWorkflowId(uuid) };
  refuseMalformedMigrationId(ref, 'migration');
  return { kind: 'name', name: parseVmName(ref) };
}

/** A VM by name or UUID (a workflow id `migrate-<uuid>` names its VM too). */
export function parseVmRef(ref: string, option = 'VM'): VmRef {
  const uuid = uuidIn(ref);
  if (uuid) return { uuid };
  refuseMalformedMigrationId(ref, option);
  return { name: parseVmName(ref, option) };
}

/** `migrate-` (any case) followed by anything but a UUID: a migration id typed wrong. */
function refuseMalformedMigrationId(ref: string, what: string): void {
  if (!/^migrate-/i.test(ref)) return;
  const problem = migrationWorkflowIdProblem(ref, { anyCase: true });
  if (problem === null) return;
  throw new UsageError(
    `${what} '${ref}' is not a migration id: a migration id is migrate-<uuid> (the VM's UUID), and ${problem}; ` +
      'a VM whose name starts with migrate- is given by its UUID',
    { ref, problem },
  );
}

function parseVmName(ref: string, option = 'VM'): string {
  if (!VmRefSchema.safeParse(ref).success) {
    throw new UsageError(`${option} '${ref}' is neither a migration id (migrate-<uuid>), a UUID, nor a VM name (letters, digits, _ . -; at most 64)`, {
      ref,
    });
  }
  return ref;
}

export function parseHostName(raw: string, option: string): string {
  if (!HostNameSchema.safeParse(raw).success) {
    throw new UsageError(`${option} '${raw}' is not a host name (letters, digits, _ . -; starting and ending with a letter or digit)`, {
      option,
      value: raw,
    });
  }
  return raw;
}
