import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Logger } from '@temporalio/worker';

type Done = Parameters<SpanExporter['export']>[1];
const SUCCESS = 0; // ExportResultCode.SUCCESS of @opentelemetry/core

/**
 * Spans as JSON lines in the worker's log (FERRY_TRACING=log): the lab's way to read traces with
 * no collector, in the same format as every other line (OpenTelemetry's console exporter prints
 * multi-line objects instead).
 */
export class LogSpanExporter implements SpanExporter {
  constructor(private readonly log: Logger) {}

  export(spans: ReadableSpan[], done: Done): void {
    for (const s of spans) {
      const ctx = s.spanContext();
      const [sec, nanos] = s.duration;
      this.log.info('span', {
        span: s.name,
        traceId: ctx.traceId,
        spanId: ctx.spanId,
        parentSpanId: s.parentSpanId ?? null,
        durationMs: Math.round((sec * 1e3 + nanos / 1e6) * 1000) / 1000,
        status: s.status.code,
        ...s.attributes,
      });
    }
    done({ code: SUCCESS });
  }

  async shutdown(): Promise<void> {}
}
