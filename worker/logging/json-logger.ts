import { pino, type DestinationStream } from 'pino';
import { LogTimestamp, type Logger, type LogLevel, type LogMetadata } from '@temporalio/worker';
import { migrationIdOf } from './migration-id';
import { redactedFields } from './redact-meta';

export interface JsonLoggerOptions {
  /** Lines below this level are dropped (default INFO). */
  level?: LogLevel;
  /** Where the lines go (default: stderr, written synchronously so that no line is lost at exit). */
  destination?: DestinationStream;
}

/**
 * The Temporal runtime's logger as JSON lines, through pino: one object per line with level,
 * time, message and fields, and `migrationId` on every line of a migration's workflow and
 * activities. The workflows' `log` (through the SDK's sink), the activities' `log`, the SDK's own
 * lines and the native core's (forwarded, runtime.ts) all come here, so a worker writes nothing but
 * JSON. Secrets a quoted domain XML may carry are redacted from the message and every field.
 */
export function createJsonLogger(opts: JsonLoggerOptions = {}): Logger {
  const out = pino(
    {
      level: (opts.level ?? 'INFO').toLowerCase(),
      base: null,
      timestamp: false,
      messageKey: 'message',
      formatters: { level: (label) => ({ level: label }) },
    },
    opts.destination ?? pino.destination({ dest: 2, sync: true }),
  );
  const log = (level: LogLevel, message: string, meta?: LogMetadata): void => {
    // The task token is an opaque blob of the activity's task: long, and of no use to a reader.
    const { [LogTimestamp]: nanos, taskToken: _, ...fields } = (meta ?? {}) as LogMetadata & { [LogTimestamp]?: bigint };
    const at = typeof nanos === 'bigint' ? new Date(Number(nanos / 1_000_000n)) : new Date();
    const migrationId = migrationIdOf(fields);
    const line = {
      time: at.toISOString(),
      ...(migrationId !== undefined ? { migrationId } : {}),
      ...(redactedFields(fields) as Record<string, unknown>),
    };
    out[level.toLowerCase() as 'trace' | 'debug' | 'info' | 'warn' | 'error'](line, redactedFields(message) as string);
  };
  return {
    log,
    trace: (m, meta) => log('TRACE', m, meta),
    debug: (m, meta) => log('DEBUG', m, meta),
    info: (m, meta) => log('INFO', m, meta),
    warn: (m, meta) => log('WARN', m, meta),
    error: (m, meta) => log('ERROR', m, meta),
  };
}
