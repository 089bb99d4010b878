/**
 * bench/scale's ONE sim worker, in a process of its own so that its RSS and CPU are its own
 * (forked by run.ts; it answers 'usage' over IPC and stops on 'stop', or when its parent goes).
 */
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createSimWorker, SimWorkerTuningSchema } from '../../worker/sim-worker';
import { SimFleetSpecSchema } from '../../model/sim/fleet-spec';

export interface WorkerProcessArgs {
  address: string;
  namespace: string;
  taskQueue: string;
  spec: unknown;
  tuning: unknown;
}

export interface WorkerUsage {
  rssBytes: number;
  maxRssKiB: number;
  userMicros: number;
  systemMicros: number;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as WorkerProcessArgs;
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const connection = await NativeConnection.connect({ address: args.address });
  const { worker } = await createSimWorker({
    connection, namespace: args.namespace, taskQueue: args.taskQueue,
    spec: SimFleetSpecSchema.parse(args.spec), tuning: SimWorkerTuningSchema.parse(args.tuning),
  });
  process.on('message', (m: { kind: string }) => {
    if (m.kind === 'usage') {
      const cpu = process.cpuUsage();
      const usage: WorkerUsage = { rssBytes: process.memoryUsage().rss, maxRssKiB: process.resourceUsage().maxRSS, userMicros: cpu.user, systemMicros: cpu.system };
      process.send?.({ kind: 'usage', usage });
    } else if (m.kind === 'stop') {
      worker.shutdown();
    }
  });
  process.on('disconnect', () => worker.shutdown());
  const running = worker.run();
  process.send?.({ kind: 'ready' });
  await running;
  await connection.close();
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/scale worker: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
