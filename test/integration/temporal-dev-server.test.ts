/**
 * The lab's Temporal dev server (lab/temporal.ts): answers on loopback, reuses itself, and has
 * ferry's search attributes registered and usable in visibility queries. Left running for the
 * other integration files; the lab owner stops it (stopTemporal). Fails with the install
 * command when the CLI is missing (npx tsx lab/temporal.ts install).
 */
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertPortFree } from '../../lab/ports';
import { startTemporal, temporalStatus, TEMPORAL_CLI_VERSION, type TemporalInfo } from '../../lab/temporal';
import { waitFor } from '../../lab/proc';
import { FerryOutcome, FerryVmUuid, ferrySearchAttributes } from '../../model/search-attributes';

let info: TemporalInfo;
let connection: Connection;

beforeAll(async () => {
  info = await startTemporal();
  connection = await Connection.connect({ address: info.address });
});

afterAll(async () => {
  await connection?.close();
});

describe('lab Temporal dev server', () => {
  it('answers on 127.0.0.1 with the pinned server', async () => {
    expect(info.address).toMatch(/^127\.0\.0\.1:\d+$/);
    const sys = await connection.workflowService.getSystemInfo({});
    expect(sys.serverVersion).toBeTruthy();
    const ns = await connection.workflowService.describeNamespace({ namespace: 'default' });
    expect(ns.namespaceInfo?.name).toBe('default');
    const status = await temporalStatus();
    expect(status).toMatchObject({ running: true, answering: true, pid: info.pid });
    expect(TEMPORAL_CLI_VERSION).toBe('1.5.1');
  });

  it('is reused, not restarted, by a second start', async () => {
    const again = await startTemporal();
    expect(again).toMatchObject({ reused: true, pid: info.pid, address: info.address });
  });

  it('has every ferry search attribute registered as Keyword', async () => {
    const list = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
    for (const key of ferrySearchAttributes) {
      expect(list.customAttributes?.[key.name], key.name).toBe(2); // INDEXED_VALUE_TYPE_KEYWORD
    }
  });

  it('finds a workflow by a ferry search attribute', async () => {
    const client = new Client({ connection, namespace: 'default' });
    const vmUuid = randomUUID();
    const handle = await client.workflow.start('neverRuns', {
      taskQueue: `no-worker-${randomUUID()}`,
      workflowId: `sa-probe-${vmUuid}`,
      typedSearchAttributes: new TypedSearchAttributes([
        { key: FerryVmUuid, value: vmUuid },
        { key: FerryOutcome, value: 'probe' },
      ]),
    });
    try {
      const found = await waitFor(
        'the probe workflow in visibility',
        async () => {
          const ids: string[] = [];
          for await (const wf of client.workflow.list({ query: `FerryVmUuid = '${vmUuid}' AND FerryOutcome = 'probe'` })) {
            ids.push(wf.workflowId);
          }
          return ids.length > 0 ? ids : undefined;
        },
        { timeoutMs: 15_000 },
      );
      expect(found).toEqual([handle.workflowId]);
    } finally {
      await handle.terminate('search attribute probe done');
    }
  });

  it('refuses a port held by someone else with a clear message', async () => {
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as net.AddressInfo).port;
    try {
      await expect(assertPortFree(port, 'Temporal frontend', 'FERRY_TEMPORAL_PORT')).rejects.toThrow(
        new RegExp(`127\\.0\\.0\\.1:${port} is already in use by a process the lab did not start`),
      );
    } finally {
      squatter.close();
    }
  });
});
