import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  OpenTelemetryActivityInboundInterceptor, OpenTelemetryActivityOutboundInterceptor, makeWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry';
import type { Logger, WorkerOptions } from '@temporalio/worker';
import { LogSpanExporter } from './log-span-exporter';
import type { TracingSetting } from './setting';

/** The workflow-side interceptors: they must be in the workflow bundle (the sandbox makes the workflow's spans). */
export const TRACING_WORKFLOW_MODULES = [require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')];

export interface WorkerTracing {
  /** What Worker.create needs: the activity interceptors (RunActivity spans) and the sink the workflow's spans leave the sandbox by. */
  workerOptions: Pick<WorkerOptions, 'interceptors' | 'sinks'>;
  /** Exports what is pending, then stops. */
  shutdown(): Promise<void>;
}

/**
 * Tracing through the SDK's OpenTelemetry interceptors: a RunWorkflow span per workflow task
 * run, StartActivity spans in the workflow, RunActivity spans in the worker (linked through the
 * activity's headers), exported to `exporter` (an OTLP collector, the worker's log, or a test's
 * memory). Registers itself as the process's OpenTelemetry provider (propagator, context manager).
 */
export function startTracing(exporter: SpanExporter, opts: { batch: boolean; serviceName?: string }): WorkerTracing {
  const resource = new Resource({ 'service.name': opts.serviceName ?? 'ferry-worker' });
  const processor: SpanProcessor = opts.batch ? new BatchSpanProcessor(exporter) : new SimpleSpanProcessor(exporter);
  const provider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
  // The activity's side runs its span in the context read from the activity's headers: that needs
  // the W3C propagator (register's default) and a context manager that follows async calls.
  provider.register({ contextManager: new AsyncLocalStorageContextManager().enable() });
  const tracer = provider.getTracer('ferry');
  return {
    workerOptions: {
      interceptors: {
        activity: [(ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer }), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })],
      },
      sinks: { exporter: makeWorkflowExporter(processor, resource) },
    },
    shutdown: () => provider.shutdown(),
  };
}

/** The worker's tracing as FERRY_TRACING says, or undefined when off. */
export function tracingFor(setting: TracingSetting, log: Logger): WorkerTracing | undefined {
  switch (setting.kind) {
    case 'off':
      return undefined;
    case 'log':
      return startTracing(new LogSpanExporter(log), { batch: false });
    case 'otlp':
      return startTracing(new OTLPTraceExporter({ url: setting.url }), { batch: true });
  }
}
