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
