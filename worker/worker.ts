import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import { HostConnections } from '../activities/connections';
import type { GuestMeter } from '../activities/deps';
import { Inventory, loadHostInventory } from '../activities/hosts';
import { PlacementClient } from '../activities/placement';
import type { WorkerConfig } from './config';
import { temporalConnectionOptions } from './temporal-connection';

export interface WorkerSetup {
  config: WorkerConfig;
  /** Where hosts and Placement come from when the config names none (the embedded lab). */
  fallback?: { inventory: () => ReturnType<typeof loadHostInventory>; placementUrl: () => Promise<string>; guestMeter?: GuestMeter };
  /** A prebuilt workflow bundle (tests reuse one); default: bundle workflows/ now. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

/** Builds the worker: Temporal connection, activities with their dependencies, workflows. */
export async function createFerryWorker(setup: WorkerSetup): Promise<{ worker: Worker; close: () => Promise<void> }> {
  const c = setup.config;
  const hosts = c.FERRY_HOSTS_FILE ? loadHostInventory(c.FERRY_HOSTS_FILE) : setup.fallback?.inventory();
  if (!hosts) throw new Error('no host inventory: set FERRY_HOSTS_FILE (or bring the lab up: ferry lab up)');
  const placementUrl = c.FERRY_PLACEMENT_URL ?? (await setup.fallback?.placementUrl());
  if (!placementUrl) throw new Error('no Placement endpoint: set FERRY_PLACEMENT_URL (or bring the lab up)');
  const inventory = new Inventory(hosts);
  const connections = new HostConnections(inventory);
  const activities = createActivities({
    inventory,
    connections,
    placement: new PlacementClient({ baseUrl: placementUrl, token: c.FERRY_PLACEMENT_TOKEN }),
    guestMeter: setup.fallback?.guestMeter,
  });
  const connection = await NativeConnection.connect(temporalConnectionOptions(c));
  const worker = await Worker.create({
    connection,
    namespace: c.FERRY_TEMPORAL_NAMESPACE,
    taskQueue: c.FERRY_TASK_QUEUE,
    activities,
    ...(setup.workflowBundle ? { workflowBundle: setup.workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
  });
  return {
    worker,
    close: async () => {
      await connections.closeAll();
      await connection.close();
    },
  };
}
