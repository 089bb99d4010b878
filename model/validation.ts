/**
 * PURE: validation helpers for the zod schemas at ferry's boundaries: strict objects whose
 * "unknown field" error lists the allowed fields, and errors written for the person who sent the
 * value — one line per bad field, naming the path and what is allowed, e.g.
 * `destination.mode: must be one of force, check (got "x")`. Workflow-safe (no I/O).
 */
import { z } from 'zod';
// ---------------------------------------------------------------------------------------------
// Helpers: strict objects whose "unknown field" error lists the allowed ones, and issue formatting
// ---------------------------------------------------------------------------------------------

export const ALLOWED_FIELDS_PREFIX = 'allowed fields: ';

/** An error map for the wrong-type case only: checks keep their own, more precise messages. */
export function typeError(message: string) {
  return { error: (issue: z.core.$ZodRawIssue) => (issue.code === 'invalid_type' ? message : undefined) };
}

/**
 * A strict object (unknown fields refused by name). `expected` describes the whole value for the
 * "wrong type" error, e.g. 'a host name or an object { host, mode }'.
 */
export function strictObject<Shape extends z.ZodRawShape>(shape: Shape, expected = 'an object') {
  const allowed = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys') return `${ALLOWED_FIELDS_PREFIX}${allowed || 'none'}`;
      if (issue.code === 'invalid_type') return `must be ${expected}`;
      return undefined;
    },
  });
}

/** A path as users write it: `destination.mode`, `decisions[2].action`; the root is `rootName`. */
export function formatPath(path: readonly PropertyKey[], rootName = 'input'): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? rootName : out;
}

export function shown(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'bigint' ? `${value}n` : JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export function article(word: string): string {
  return /^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`;
}

const TYPE_NAMES: Record<string, string> = {
  int: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
};

/** What is allowed, phrased as "must ..." from a zod issue (custom messages are already phrased). */
function describeIssue(issue: z.core.$ZodIssue): string {
  if (/^(must|is) /.test(issue.message)) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return `must be ${TYPE_NAMES[issue.expected] ?? article(issue.expected)}`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `must be ${String(issue.values[0])}`
        : `must be one of ${issue.values.map(String).join(', ')}`;
    case 'too_small': {
      const min = String(issue.minimum);
      if (issue.origin === 'string') return issue.minimum === 1 ? 'must not be empty' : `must be at least ${min} characters`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must have at least ${min} items`;
      return issue.inclusive === false ? `must be greater than ${min}` : `must be at least ${min}`;
    }
    case 'too_big': {
      const max = String(issue.maximum);
      if (issue.origin === 'string') return `must be at most ${max} characters`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must have at most ${max} items`;
      return issue.inclusive === false ? `must be less than ${max}` : `must be at most ${max}`;
    }
    case 'custom':
      return issue.message;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    default:
      return `must be valid: ${issue.message}`;
  }
}

/** One line per problem: `<path>: must ... (got <value>)`. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], rootName = 'input'): string[] {
  const lines: string[] = [];
  const reported = new Set<string>();
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const allowed = issue.message.startsWith(ALLOWED_FIELDS_PREFIX) ? ` (${issue.message})` : '';
      for (const key of issue.keys) lines.push(`${formatPath([...issue.path, key], rootName)}: unknown field${allowed}`);
      continue;
    }
    if (issue.code === 'invalid_union') {
      // When only one alternative got past the type check, its errors are the useful ones.
      const branches = issue.errors.filter((errs) => !errs.every((e) => e.code === 'invalid_type' && e.path.length === 0));
      if (branches.length === 1) {
        lines.push(...formatIssues(branches[0]!.map((e) => ({ ...e, path: [...issue.path, ...e.path] })), rootName));
        continue;
      }
    }
    const missing = issue.code === 'invalid_type' && (!('input' in issue) || issue.input === undefined);
    const what = describeIssue(issue);
    const path = formatPath(issue.path, rootName);
    // One line per field: a value that is both too long and badly formed needs one fix, not two.
    if (reported.has(path)) continue;
    reported.add(path);
    if (missing) lines.push(`${path}: is required (${what})`);
    else lines.push(issue.input !== undefined ? `${path}: ${what} (got ${shown(issue.input)})` : `${path}: ${what}`);
  }
  return lines;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string; issues: string[] };

/** Parse `input`; on failure, an error that lists every bad field (see {@link formatIssues}). */
export function parseWith<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what: string,
  rootName = 'input',
): ParseResult<z.output<S>> {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return { ok: true, value: result.data };
  const issues = formatIssues(result.error.issues, rootName);
  return { ok: false, error: `invalid ${what}: ${issues.join('; ')}`, issues };
}

/** The value, or throw an Error whose message lists every bad field (for update validators). */
export function assertValid<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = parseWith(schema, input, what);
  if (!result.ok) throw new InvalidInputError(result.error, result.issues);
  return result.value;
}

export class InvalidInputError extends Error {
  constructor(
    message: string,
    readonly issues: string[],
  ) {
    super(message);
    this.name = 'InvalidInputError';
  }
}

