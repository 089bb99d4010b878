/**
 * Screenshots of the lab's Temporal web UI for docs/observability.md, taken with headless
 * Chromium (Debian's `chromium`): the migration list with its summary column, a migration running
 * in pre-copy (its current details), a completed one (summary, details), and the static details
 * (request and resolved policy). Runs its own worker and guests on the lab, then removes them.
 *
 *   node bin/ferry lab up --hosts 3 --accel tcg
 *   npx tsx docs/screenshots/take.ts          # writes docs/screenshots/*.png
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { temporalStatus } from '../../lab/temporal';
import { requireLabState } from '../../lab/state';
import { createLabVm, deleteLabVm } from '../../lab/vms';
import { itClient, startWorkerProcess } from '../../test/integration/support/lab-processes';

const execFileAsync = promisify(execFile);
const OUT = path.join(__dirname);
const TASK_QUEUE = 'ferry-screenshots';
const CHROMIUM = '/usr/bin/chromium';

async function shoot(url: string, file: string, height = 1000): Promise<void> {
  // --virtual-time-budget lets the UI's single-page app fetch and render before the capture.
  await execFileAsync(CHROMIUM, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--hide-scrollbars',
    `--window-size=1500,${height}`, '--virtual-time-budget=15000', `--screenshot=${path.join(OUT, file)}`, url,
  ], { timeout: 120_000 });
  console.log(`${file}: ${url}`);
}

async function main(): Promise<void> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no ${CHROMIUM}: apt-get install chromium`);
  const state = requireLabState();
  const [A, B] = [state.hosts[0]!.name, state.hosts[1]!.name];
  const t = await temporalStatus();
  if (!t.running) throw new Error('the lab is down: node bin/ferry lab up');
  const ui = `${t.uiUrl}/namespaces/default`;
  const worker = await startWorkerProcess('screenshots', { taskQueue: TASK_QUEUE });
  const client = await itClient(TASK_QUEUE);
  const vms = ['shot-done', 'shot-running'];
  try {
    for (const v of vms) await deleteLabVm(v);
    const done = await createLabVm({ name: 'shot-done', host: A, memoryMiB: 128, rateMiBps: 4 });
    const d = await client.startMigration({ vm: done.name, destination: B }, done.uuid);
    await d.result();
    const runDone = (await d.describe()).runId;

    const running = await createLabVm({ name: 'shot-running', host: A, memoryMiB: 256, rateMiBps: 32, wssMiB: 96 });
    const r = await client.startMigration({ vm: running.name, destination: B, bandwidthMiBps: 6, policy: { postcopy: { allowed: false } } }, running.uuid);
    const deadline = Date.now() + 120_000;
    while ((await client.progress(r.workflowId).catch(() => undefined))?.dataTotal === undefined || (await client.progress(r.workflowId)).dataTotal === 0) {
      if (Date.now() > deadline) throw new Error('the running migration never started copying');
      await new Promise((res) => setTimeout(res, 500));
    }
    await new Promise((res) => setTimeout(res, 4_000)); // a few samples into pre-copy
    const runRunning = (await r.describe()).runId;
    await shoot(`${ui}/workflows/${r.workflowId}/${runRunning}/history`, 'running-precopy.png', 1100);
    await shoot(`${ui}/workflows?query=${encodeURIComponent("WorkflowType = 'liveMigration'")}`, 'list.png', 800);
    await client.abort(r.workflowId, 'screenshots taken').catch(() => undefined);
    await r.result().catch(() => undefined);
    await shoot(`${ui}/workflows/${d.workflowId}/${runDone}/history`, 'completed.png', 1100);
    await shoot(`${ui}/workflows/${d.workflowId}/${runDone}/metadata`, 'completed-metadata.png', 1400);
  } finally {
    await client.close();
    await worker.kill();
    for (const v of vms) await deleteLabVm(v);
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
