import { NativeConnection, Runtime, Worker, type ActivityInterceptorsFactory, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import { HostConnections } from '../activities/connections';
import type { GuestMeter } from '../activities/deps';
import { Inventory, loadHostInventory, type HostInventory } from '../activities/hosts';
import { PlacementClient } from '../activities/placement';
import { placementTokens } from './placement-auth';
import type { WorkerConfig } from './config';
import { temporalConnectionOptions } from '../config/temporal-connection';
import { describeWrongTypes, searchAttributeState, type SearchAttributeOperator } from '../model/search-attribute-registration';
import type { MetricMeter } from '@temporalio/common';
import { reportMigrationsInFlight } from './metrics/in-flight';
import { pastMigrationsFrom } from './visibility/past-migrations';
import { runningMigrationsFrom } from './visibility/running-migrations';
import { TRACING_WORKFLOW_MODULES, type WorkerTracing } from './tracing/tracing';
import { bundleAtStart } from './bundle-at-start';
import { prebuiltWorkflowBundle } from './workflow-bundle';

/**
 * Where hosts, Placement and a guest stall meter come from when the configuration names none:
 * the composition root passes the embedded lab's (entry/lab-fallback.ts); worker/ knows no lab.
 */
export interface WorkerFallback {
  /** What it is, for the log, e.g. "the lab's state /work/main/.lab/lab.json". */
  describe: string;
  inventory: () => HostInventory;
  placementUrl: () => Promise<string>;
  guestMeter?: GuestMeter;
  /** The Temporal address when neither TEMPORAL_ADDRESS nor the Temporal profile names one. */
  temporalAddress?: () => Promise<string | undefined>;
}

export interface WorkerSetup {
  config: WorkerConfig;
  /** Where Temporal is: config.temporal.address, or the fallback's when that is unset. */
  temporalAddress: string;
  fallback?: WorkerFallback;
  /** A prebuilt workflow bundle (tests reuse one); default: the build's (workflow-bundle.ts) when fresh, else bundle workflows/ now. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Activity interceptors (the fault matrix holds an activity at its start to inflict a fault there). */
  activityInterceptors?: ActivityInterceptorsFactory[];
  /** OpenTelemetry tracing (FERRY_TRACING): its interceptors and sink; the workflows are then bundled at start with its workflow interceptors. */
  tracing?: WorkerTracing;
  /** Where the gauge of migrations in flight goes (the runtime's meter when metrics are served); absent: not counted. */
  inFlightMeter?: MetricMeter;
}

/** What the worker was built from, for its start-up log. */
export interface WorkerFacts {
  hosts: string[];
  hostsFrom: string;
  placementUrl: string;
  placementFrom: string;
  workflows: string;
}

/** Builds the worker: Temporal connection, activities with their dependencies, workflows. */
export async function createFerryWorker(setup: WorkerSetup): Promise<{ worker: Worker; close: () => Promise<void>; facts: WorkerFacts }> {
  const c = setup.config;
  const fb = setup.fallback;
  const hosts = c.FERRY_HOSTS_FILE ? loadHostInventory(c.FERRY_HOSTS_FILE) : fb?.inventory();
  if (!hosts) throw new Error('no host inventory: set FERRY_HOSTS_FILE (or bring the lab up: ferry lab up)');
  const tokens = placementTokens(c);
  const placementUrl = c.FERRY_PLACEMENT_URL ?? (await tokens.placementEndpoint?.()) ?? (await fb?.placementUrl());
  if (!placementUrl) throw new Error('no Placement endpoint: set FERRY_PLACEMENT_URL (or bring the lab up)');
  const inventory = new Inventory(hosts);
  const connections = new HostConnections(inventory);
  // The prebuilt bundle has no tracing interceptors: with tracing on, the worker bundles its own.
  const prebuilt = setup.workflowBundle ?? (setup.tracing ? undefined : prebuiltWorkflowBundle());
  let connection: NativeConnection | undefined;
  try {
    connection = await NativeConnection.connect(temporalConnectionOptions(c.temporal, setup.temporalAddress));
    await refuseWithoutSearchAttributes(connection, c.temporal.namespace);
    const activities = createActivities({
      inventory,
      connections,
      placement: new PlacementClient({ baseUrl: placementUrl, tokens }),
      // Admission counts every migration in flight: visibility, through the worker's own connection.
      visibility: runningMigrationsFrom(connection, c.temporal.namespace),
      // Forecasts learn a host pair's fixed costs from its recent migrations, also in visibility.
      history: pastMigrationsFrom(connection, c.temporal.namespace),
      guestMeter: fb?.guestMeter,
    });
    const bundle = prebuilt ?? (await bundleAtStart(require.resolve('../workflows'), Runtime.instance().logger, setup.tracing ? TRACING_WORKFLOW_MODULES : []));
    const activityInterceptors = [...(setup.activityInterceptors ?? []), ...(setup.tracing?.workerOptions.interceptors?.activity ?? [])];
    const worker = await Worker.create({
      connection,
      namespace: c.temporal.namespace,
      taskQueue: c.FERRY_TASK_QUEUE,
      activities,
      ...(activityInterceptors.length > 0 ? { interceptors: { activity: activityInterceptors } } : {}),
      ...(setup.tracing?.workerOptions.sinks ? { sinks: setup.tracing.workerOptions.sinks } : {}),
      // On SIGTERM, running activities get this long to return before they are cancelled
      // (all are idempotent: a cancelled one is retried by the next worker).
      shutdownGraceTime: '10 seconds',
      workflowBundle: bundle,
    });
    const conn = connection;
    const stopInFlight = setup.inFlightMeter
      ? reportMigrationsInFlight(conn, c.temporal.namespace, setup.inFlightMeter, Runtime.instance().logger)
      : () => undefined;
    return {
      worker,
      close: async () => {
        stopInFlight();
        await setup.tracing?.shutdown();
        await connections.closeAll();
        await conn.close();
      },
      facts: {
        hosts: hosts.map((h) => h.name),
        hostsFrom: c.FERRY_HOSTS_FILE ? `from FERRY_HOSTS_FILE ${c.FERRY_HOSTS_FILE}` : `from ${fb!.describe}`,
        placementUrl,
        placementFrom: c.FERRY_PLACEMENT_URL ? 'from FERRY_PLACEMENT_URL' : `from ${fb!.describe}`,
        workflows: prebuilt
          ? 'prebuilt bundle'
          : setup.tracing
            ? 'bundled at start with the tracing interceptors (FERRY_TRACING)'
            : 'bundled at start (the prebuilt one is stale or absent: npm run build)',
      },
    };
  } catch (err) {
    await connections.closeAll();
    await connection?.close().catch(() => undefined);
    throw err;
  }
}

/**
 * The workflows upsert ferry's search attributes: without them registered every workflow task
 * fails, for ever. So the worker does not start; `ferry setup` registers them once per namespace.
 */
export async function refuseWithoutSearchAttributes(connection: { operatorService: SearchAttributeOperator }, namespace: string): Promise<void> {
  const state = await searchAttributeState(connection.operatorService, namespace);
  if (state.missing.length > 0) {
    throw new Error(
      `namespace '${namespace}' lacks ferry's search attributes ${state.missing.join(', ')}: ` +
        'run `ferry setup` with the same Temporal configuration (it registers them once per namespace)',
    );
  }
  if (state.wrongType.length > 0) throw new Error(`namespace '${namespace}': ${describeWrongTypes(state.wrongType)}`);
}
