/**
 * What an operator may type where a migration or a VM is expected: a workflow id `migrate-<uuid>`,
 * a VM UUID, or a VM name. Checked before anything is contacted (a UsageError otherwise).
 */
import { HostNameSchema, isUuid, migrationWorkflowId, vmUuidFromWorkflowId, VmRefSchema } from '../model/types';
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
  return { kind: 'name', name: parseVmName(ref) };
}

/** A VM by name or UUID (a workflow id `migrate-<uuid>` names its VM too). */
export function parseVmRef(ref: string, option = 'VM'): VmRef {
  const uuid = uuidIn(ref);
  if (uuid) return { uuid };
  return { name: parseVmName(ref, option) };
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
