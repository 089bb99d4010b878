import net from 'node:net';

/** Where a worker serves its Prometheus metrics when FERRY_METRICS_ADDRESS is unset: loopback only, the port OpenTelemetry's Prometheus exporter uses. */
export const DEFAULT_METRICS_ADDRESS = '127.0.0.1:9464';

/**
 * FERRY_METRICS_ADDRESS as the SDK's Prometheus exporter binds it: an IP address and a port
 * (`127.0.0.1:9464`, `0.0.0.0:9464`, `[::1]:9464`; the exporter takes no host names), or `off`.
 * Returns the problem in words, naming what is allowed, for the worker's configuration error.
 */
export function parseMetricsAddress(value: string | undefined): { bindAddress: string } | { off: true } | { problem: string } {
  const v = (value ?? DEFAULT_METRICS_ADDRESS).trim();
  if (v === 'off') return { off: true };
  const allowed = "must be IP:PORT (e.g. 127.0.0.1:9464, 0.0.0.0:9464, [::1]:9464) or 'off'";
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(v);
  if (!m) return { problem: `${allowed} (got ${JSON.stringify(v)})` };
  const host = m[1] ?? m[2]!;
  const port = Number(m[3]);
  if (m[1] !== undefined ? !net.isIPv6(host) : !net.isIPv4(host)) {
    return { problem: `${allowed}: ${JSON.stringify(host)} is no IP${m[1] !== undefined ? 'v6' : 'v4'} address (got ${JSON.stringify(v)})` };
  }
  if (port < 1 || port > 65_535) return { problem: `${allowed}: port ${port} is outside 1-65535 (got ${JSON.stringify(v)})` };
  return { bindAddress: v };
}
