/**
 * The exit codes of the ferry CLI, defined once: each means one thing, so scripts can branch on
 * them. 64 and 69 are sysexits.h's EX_USAGE and EX_UNAVAILABLE; 70 its EX_SOFTWARE;
 * 130 the shell's 128 + SIGINT.
 */
export const EXIT = {
  /** The migration completed, or the command did what it was asked. */
  ok: 0,
  /** The migration failed (it ended neither completed nor rolled back cleanly). */
  failed: 1,
  /** ferry refused: the request, a pre-check, an update's validator, an unknown VM, host or migration. */
  refused: 2,
  /** The migration was rolled back or aborted: the VM still runs on its source. */
  rolledBack: 3,
  /** The command line is wrong (option, number, JSON, id, request): found before anything starts. */
  usage: 64,
  /** Temporal cannot be reached, the configuration is bad, or no worker polls the task queue. */
  unavailable: 69,
  /** A bug in ferry: an error it did not expect. */
  internal: 70,
  /** Ctrl-C while `migrate` watched: the watching stopped, the migration goes on (128 + SIGINT). */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** For `ferry --help` and the README: code and meaning, in order. */
export const EXIT_CODE_TABLE: ReadonlyArray<readonly [ExitCode, string]> = [
  [EXIT.ok, 'completed (migrate), or the command succeeded'],
  [EXIT.failed, 'the migration failed'],
  [EXIT.refused, 'refused by ferry: invalid request found by the workflow, pre-check, validator, unknown VM/host/migration'],
  [EXIT.rolledBack, 'rolled back or aborted: the VM still runs on its source'],
  [EXIT.usage, 'usage error: bad option, number, JSON, migration id or request (checked before anything starts)'],
  [EXIT.unavailable, 'cannot reach Temporal, bad configuration, or no worker polls the task queue'],
  [EXIT.internal, 'internal error in ferry (a bug)'],
  [EXIT.interrupted, 'Ctrl-C while migrate watched: only the watching stopped, the migration goes on'],
];

/** What kind of error a code stands for, in JSON error objects (`{"error":{"kind":...}}`). */
export const EXIT_KIND: Record<ExitCode, string> = {
  0: 'ok',
  1: 'failed',
  2: 'refused',
  3: 'rolled-back',
  64: 'usage',
  69: 'unavailable',
  70: 'internal',
  130: 'interrupted',
};
