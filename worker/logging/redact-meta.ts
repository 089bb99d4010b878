import { redactSecrets } from '../../model/redact-secrets';

/**
 * A log line's fields with every secret a quoted domain XML may carry redacted (messages of libvirt
 * errors quote XML), and errors as plain fields (JSON has no Error): what may reach a log file.
 */
export function redactedFields(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (value instanceof Error) {
    return {
      type: value.name,
      message: redactSecrets(value.message),
      ...(value.stack ? { stack: redactSecrets(value.stack) } : {}),
      ...(value.cause !== undefined && depth < 4 ? { cause: redactedFields(value.cause, depth + 1) } : {}),
    };
  }
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object' || depth >= 6) return value;
  if (Array.isArray(value)) return value.map((v) => redactedFields(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactedFields(v, depth + 1)]));
}
