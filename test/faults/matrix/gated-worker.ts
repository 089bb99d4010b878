/**
 * A ferry worker with the fault matrix's gate (gate.ts) in front of its activities: the same
 * worker `ferry worker` runs (worker/main.ts, the lab as fallback), plus one interceptor.
 * Started by the matrix runner: `tsx test/faults/matrix/gated-worker.ts <gate dir>`.
 */
import { labFallback } from '../../../entry/lab-fallback';
import { runWorker } from '../../../worker/main';
import { gateInterceptor } from './gate';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: gated-worker.ts <gate dir>');
  process.exit(64);
}
runWorker({
  fallback: labFallback,
  unavailable: (message) => new Error(message),
  activityInterceptors: [gateInterceptor(dir)],
}).catch((err) => {
  console.error(err);
  process.exit(1);
});
