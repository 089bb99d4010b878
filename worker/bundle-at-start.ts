import { bundleWorkflowCode, type Logger, type WorkflowBundle } from '@temporalio/worker';

/**
 * Bundles workflows/ when the prebuilt bundle is stale or absent (workflow-bundle.ts), without the
 * SDK printing webpack's statistics, a multi-line table, at every start: webpack's info goes
 * nowhere, its warnings and errors to the worker's log; the caller logs one line saying it bundled.
 */
export async function bundleAtStart(workflowsPath: string, log: Logger, workflowInterceptorModules: string[] = []): Promise<WorkflowBundle> {
  const warningsOnly: Logger = {
    log: (level, message, meta) => (level === 'WARN' || level === 'ERROR' ? log.log(level, message, meta) : undefined),
    trace: () => undefined,
    debug: () => undefined,
    info: () => undefined,
    warn: (message, meta) => log.warn(message, meta),
    error: (message, meta) => log.error(message, meta),
  };
  return bundleWorkflowCode({ workflowsPath, logger: warningsOnly, workflowInterceptorModules });
}
