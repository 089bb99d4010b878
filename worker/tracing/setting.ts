/**
 * FERRY_TRACING: where a worker's OpenTelemetry spans go. Off unless set: tracing costs a workflow
 * bundle built at start (the spans are made inside the workflow sandbox) and an exporter.
 * `log`: each span as a JSON line in the worker's log (the lab, no collector needed);
 * an http(s) URL: an OTLP/HTTP collector's traces endpoint, e.g. http://127.0.0.1:4318/v1/traces.
 */
export type TracingSetting = { kind: 'off' } | { kind: 'log' } | { kind: 'otlp'; url: string };

export function parseTracingSetting(value: string | undefined): TracingSetting | { problem: string } {
  const v = value?.trim() ?? 'off';
  if (v === 'off' || v === '') return { kind: 'off' };
  if (v === 'log') return { kind: 'log' };
  const allowed = "must be 'off' (default), 'log' (spans as JSON lines in the worker's log) or an OTLP/HTTP traces URL such as http://127.0.0.1:4318/v1/traces";
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return { problem: `${allowed} (got ${JSON.stringify(v)})` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { problem: `${allowed} (got ${JSON.stringify(v)}: not http or https)` };
  return { kind: 'otlp', url: v };
}
