/**
 * Exports the event history of a finished migration as the proto-JSON that Temporal's replayer
 * reads (`Worker.runReplayHistory`), for test/fixtures/histories/. Run against the lab's Temporal:
 *
 *   npx tsx test/workflow/support/record-history.ts <workflow-id> <out.json> [--address 127.0.0.1:7233]
 *
 * The workflow must be closed (a running one would be recorded half-way and replay would stop at
 * its end, which proves less). The file is written pretty-printed so a diff shows what changed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = args.indexOf('--address');
  const address = at >= 0 ? args.splice(at, 2)[1] : '127.0.0.1:7233';
  const [workflowId, out] = args;
  if (!workflowId || !out || !address) {
    throw new Error('usage: record-history.ts <workflow-id> <out.json> [--address host:port]');
  }
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection, namespace: 'default' });
    const handle = client.workflow.getHandle(workflowId);
    const desc = await handle.describe();
    if (desc.status.name === 'RUNNING') throw new Error(`${workflowId} is still running: record it once it has closed`);
    const history = await handle.fetchHistory();
    const json = JSON.parse(historyToJSON(history)) as unknown;
    historyFromJSON(json); // what the replay test will do: fail here, not in CI, if it cannot be read back
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, `${JSON.stringify(json, null, 2)}\n`);
    console.log(`${workflowId} (${desc.status.name}, ${history.events?.length ?? 0} events) -> ${out}`);
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
