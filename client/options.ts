import { UsageError } from './errors';

/**
 * Parsing of command-line values, pure and fast: everything here runs before the CLI contacts
 * anything, and a bad value is a UsageError (exit 64) that names the option and what is allowed.
 */

/** A number, e.g. `--bandwidth 8`. */
export function parseNumberOption(name: string, raw: string): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) {
    throw new UsageError(`${name} must be a number, got '${raw}'`, { option: name, value: raw });
  }
  return value;
}

/** A whole number of at least `min`, e.g. `--limit 20`. */
export function parseIntegerOption(name: string, raw: string, min = 1): number {
  const value = parseNumberOption(name, raw);
  if (!Number.isInteger(value) || value < min) {
    throw new UsageError(`${name} must be a whole number of at least ${min}, got '${raw}'`, { option: name, value: raw });
  }
  return value;
}

/** A JSON object, e.g. `--policy '{"postcopy":{"allowed":false}}'`. */
export function parseJsonObjectOption(name: string, raw: string, example: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new UsageError(`${name} must be a JSON object, e.g. '${example}'; ${(err as Error).message} in ${raw}`, { option: name, value: raw });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`${name} must be a JSON object, e.g. '${example}'; got ${raw}`, { option: name, value: raw });
  }
  return value as Record<string, unknown>;
}

const DURATION_UNITS_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `--since`: an ISO time (2025-01-31, 2025-01-31T08:00:00Z) or a duration back from now (90s, 30m, 2h, 7d, 1w). */
export function parseSinceOption(raw: string, now: Date = new Date()): Date {
  const duration = /^(\d+)([smhdw])$/.exec(raw.trim());
  if (duration) return new Date(now.getTime() - Number(duration[1]) * DURATION_UNITS_MS[duration[2]!]!);
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(raw.trim())) {
    const t = Date.parse(raw.trim());
    if (Number.isFinite(t)) return new Date(t);
  }
  throw new UsageError(`--since must be an ISO time (2025-01-31, 2025-01-31T08:00:00Z) or a duration (90s, 30m, 2h, 7d, 1w), got '${raw}'`, {
    option: '--since',
    value: raw,
  });
}

/** One of a fixed set of words, e.g. `--status running`. */
export function parseChoiceOption<T extends string>(name: string, raw: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(raw)) return raw as T;
  throw new UsageError(`${name} must be one of ${choices.join(', ')}; got '${raw}'`, { option: name, value: raw });
}
