/**
 * A migration request checked once, on the caller's side, with the workflow's own schema: what
 * the typed client sends is what the workflow will accept (it checks again at its boundary).
 */
import { parseMigrationRequest, type MigrationRequest, type MigrationRequestInput } from '../model/types';
import { UsageError } from './errors';

export class ValidatedRequest {
  private constructor(readonly value: MigrationRequest) {}

  /** The request, or a UsageError that lists every bad field. */
  static from(input: MigrationRequestInput | unknown): ValidatedRequest {
    const parsed = parseMigrationRequest(input);
    if (!parsed.ok) throw new UsageError(parsed.error, { issues: parsed.issues });
    return new ValidatedRequest(parsed.value);
  }
}

/**
 * The request against the host the VM runs on (as a worker located it): a destination that is
 * that host is a wrong request, refused before anything starts (a UsageError, like the schema's
 * `destination.host: must differ from source` when the request names its source).
 */
export function refuseDestinationIsSource(request: MigrationRequest, source: string): void {
  if (request.destination?.host !== source) return;
  const issue = `destination.host: must differ from the source host '${source}' (the VM runs there)`;
  throw new UsageError(`invalid migration request: ${issue}`, { issues: [issue], source });
}
