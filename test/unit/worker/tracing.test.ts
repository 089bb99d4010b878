/** FERRY_TRACING (off unless set; log; an OTLP/HTTP URL) and spans as JSON lines in the worker's log. */
import { context, trace } from '@opentelemetry/api';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { loadWorkerConfig } from '../../../worker/config';
import { createJsonLogger } from '../../../worker/logging/json-logger';
import { LogSpanExporter } from '../../../worker/tracing/log-span-exporter';

describe('FERRY_TRACING', () => {
  it('off by default; log; an http(s) URL for OTLP', () => {
    expect(loadWorkerConfig({}).FERRY_TRACING).toEqual({ kind: 'off' });
    expect(loadWorkerConfig({ FERRY_TRACING: 'log' }).FERRY_TRACING).toEqual({ kind: 'log' });
    expect(loadWorkerConfig({ FERRY_TRACING: 'http://127.0.0.1:4318/v1/traces' }).FERRY_TRACING).toEqual({ kind: 'otlp', url: 'http://127.0.0.1:4318/v1/traces' });
  });

  it.each(['console', 'grpc://collector:4317', '127.0.0.1:4318'])('refuses %s, naming the variable and what is allowed', (value) => {
    expect(() => loadWorkerConfig({ FERRY_TRACING: value })).toThrow(/FERRY_TRACING must be 'off' \(default\), 'log' .* or an OTLP\/HTTP traces URL/);
  });
});

describe('spans in the log', () => {
  it('one JSON line per span, with its trace, parent and duration', () => {
    const lines: string[] = [];
    const log = createJsonLogger({ destination: { write: (s: string) => { lines.push(s.trim()); } } });
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new LogSpanExporter(log))] });
    const tracer = provider.getTracer('t');
    const parent = tracer.startSpan('RunWorkflow:liveMigration');
    tracer.startSpan('StartActivity:claim', { attributes: { workflowId: 'migrate-x' } }, trace.setSpan(context.active(), parent)).end();
    parent.end();
    const spans = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(spans.map((s) => [s.message, s.span])).toEqual([['span', 'StartActivity:claim'], ['span', 'RunWorkflow:liveMigration']]);
    expect(spans[0]).toMatchObject({ level: 'info', traceId: spans[1]!.traceId, parentSpanId: spans[1]!.spanId, workflowId: 'migrate-x' });
    expect(spans[0]!.migrationId).toBeUndefined(); // no workflowType liveMigration on this span
    expect(typeof spans[0]!.durationMs).toBe('number');
  });
});
