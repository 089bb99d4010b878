/**
 * No secret in Temporal's history or the worker's log (issue 9 §3), on the real lab: a guest with
 * a VNC password (unique to this run) migrates through the workflow; its recorded history (payloads
 * decoded), search attributes, memo and the worker's log never contain the password, and the guest
 * still has it on the destination (the XML the activities rebuilt carried it there).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FerryClient } from '../../client/ferry-client';
import { DomainXmlFlags } from '../../activities/libvirt';
import { findDomain, withHostClient } from '../../lab/host-clients';
import type { LabState } from '../../lab/state';
import { createLabVm, deleteLabVm } from '../../lab/vms';
import { ensureTestLab } from './lab';
import { expectInvariants, itClient, labTemporalAddress, startWorkerProcess, type WorkerProcess } from './support/workflow-lab';

const VM = 'wf-secret';
/** Unique per run, so an old history or log cannot make the test pass or fail. */
// VNC passwords are at most 8 characters (libvirt refuses longer). Letters g-z only: no hex digit,
// so the password cannot turn up by chance inside a UUID or a fingerprint in the history.
const PASSWORD = Array.from(randomBytes(8), (b) => String.fromCharCode(103 + (b % 20))).join('');
let lab: LabState;
let A: string;
let B: string;
let worker: WorkerProcess;
let client: FerryClient;

beforeAll(async () => {
  lab = await ensureTestLab();
  [A, B] = [lab.hosts[0]!.name, lab.hosts[1]!.name];
  await deleteLabVm(VM);
  worker = await startWorkerProcess('secrets');
  client = await itClient();
});
afterAll(async () => {
  await client?.close();
  await worker?.kill();
  await deleteLabVm(VM);
});

/** The domain's XML with its secrets (VIR_DOMAIN_XML_SECURE), as the host runs it. */
async function secureXmlOn(host: string): Promise<string> {
  return withHostClient(host, async (c) => {
    const found = await findDomain(c, VM);
    if (!found) throw new Error(`${VM} is not on ${host}`);
    return c.domainGetXmlDesc(found.dom, DomainXmlFlags.Secure);
  });
}

describe('no secret in the history or the logs', () => {
  it('a guest with a VNC password migrates; history, search attributes, memo and worker log never hold the password', async () => {
    const vm = await createLabVm({ name: VM, host: A, memoryMiB: 64, rateMiBps: 0, graphicsPassword: PASSWORD });
    expect(await secureXmlOn(A)).toContain(`passwd='${PASSWORD}'`); // the secret is really there to leak

    const handle = await client.startMigration({ vm: vm.name, destination: B }, vm.uuid);
    const o = await handle.result();
    expect(o.outcome).toBe('completed');
    await expectInvariants(vm, B, o.migrationId);
    // The destination runs the guest with its password: the rebuilt XML was the one sent.
    expect(await secureXmlOn(B)).toContain(`passwd='${PASSWORD}'`);

    const connection = await Connection.connect({ address: await labTemporalAddress() });
    try {
      const wf = new Client({ connection }).workflow.getHandle(handle.workflowId);
      const historyJson = JSON.stringify(await wf.fetchHistory());
      const payloads = [...historyJson.matchAll(/"data":"([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8'));
      // The scan reads the payloads: the prepare step's fingerprint is among them.
      expect(payloads.some((p) => /sha256:[0-9a-f]{64}/.test(p))).toBe(true);
      const d = await wf.describe();
      const places: Record<string, string> = {
        history: historyJson,
        'history payloads': payloads.join('\n'),
        'search attributes': JSON.stringify(d.searchAttributes),
        memo: JSON.stringify(d.memo ?? {}),
        outcome: JSON.stringify(o),
        'worker log': fs.readFileSync(worker.logFile, 'utf8'),
      };
      for (const [where, text] of Object.entries(places)) {
        expect(text.includes(PASSWORD), `the password is in the ${where}`).toBe(false);
        expect(text.includes('<domain'), `a domain XML is in the ${where}`).toBe(false);
      }
    } finally {
      await connection.close();
    }
  }, 120_000);
});
