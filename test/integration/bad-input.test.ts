/**
 * Bad input, refused through both entry points — the ferry CLI and the raw Temporal CLI — with a
 * message naming the field and the rule, and nothing changed: every row snapshots the VMs' domain
 * state on every host, their Placement allocations and every provider's usages before and after.
 * One worker, one running guest, one shut-off guest, and one held migration for the update rows.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Connection, WorkflowClient } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FerryClient } from '../../client/ferry-client';
import { hostUri } from '../../lab/hosts';
import { requireLabState, type LabState, type LabVm } from '../../lab/state';
import { installedTemporalCli } from '../../lab/temporal';
import { createLabVm, deleteLabVm, locateVm } from '../../lab/vms';
import { runFerry, type CliRun } from './support/cli';
import { fillHost, itClient, labTemporalAddress, placementClient, rpOf, startWorkerProcess, type WorkerProcess } from './support/workflow-lab';

const TAG = randomUUID().slice(0, 6);
const VM = `bi-run-${TAG}`;
const OFF = `bi-off-${TAG}`;
const taskQueue = `bad-input-${randomUUID()}`;

let lab: LabState;
let A: string;
let B: string;
let vm: LabVm;
let off: LabVm;
let worker: WorkerProcess;
let address: string;
let client: FerryClient;
let conn: Connection;

beforeAll(async () => {
  lab = requireLabState();
  expect(lab.hosts.length).toBeGreaterThanOrEqual(2);
  [A, B] = [lab.hosts[0]!.name, lab.hosts[1]!.name];
  address = await labTemporalAddress();
  const [w, v, o] = await Promise.all([
    startWorkerProcess('bad-input', { taskQueue }),
    createLabVm({ name: VM, host: A, memoryMiB: 128, rateMiBps: 'max' }),
    createLabVm({ name: OFF, host: A, memoryMiB: 128, rateMiBps: 0 }),
  ]);
  [worker, vm, off] = [w, v, o];
  execFileSync('virsh', ['-c', hostUri(A), 'destroy', OFF], { stdio: 'ignore' });
  client = await itClient(taskQueue);
  conn = await Connection.connect({ address });
}, 120_000);

afterAll(async () => {
  await conn?.close();
  await client?.close();
  await worker?.kill();
  await deleteLabVm(VM);
  await deleteLabVm(OFF);
}, 60_000);

// ---------------------------------------------------------------------------------------------
// What must not change
// ---------------------------------------------------------------------------------------------

async function snapshot(): Promise<unknown> {
  const p = await placementClient();
  const doms = await Promise.all([VM, OFF].map(async (n) => [n, (await locateVm(n)).presentOn.map(({ host, state }) => ({ host, state }))]));
  const allocs = await Promise.all([vm.uuid, off.uuid].map(async (u) => [u, (await p.getAllocations(u)).allocations]));
  const usages = await Promise.all(lab.hosts.map(async (h) => [h.name, (await p.getUsages(rpOf(h.name))).usages]));
  return { doms: Object.fromEntries(doms), allocs: Object.fromEntries(allocs), usages: Object.fromEntries(usages) };
}

async function unchangedAround<T>(body: () => Promise<T>, extra?: () => Promise<unknown>): Promise<T> {
  const before = { s: await snapshot(), x: await extra?.() };
  const out = await body();
  expect({ s: await snapshot(), x: await extra?.() }).toEqual(before);
  return out;
}

const show = (r: { code: number | null; stdout: string; stderr: string }) => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

// ---------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------

function ferry(args: string[]): Promise<CliRun> {
  return runFerry(args, { env: { FERRY_TEMPORAL_ADDRESS: address, FERRY_TASK_QUEUE: taskQueue }, timeoutMs: 60_000 });
}

interface Run { code: number | null; stdout: string; stderr: string }
function temporal(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(installedTemporalCli(), [...args, '--address', address, '--namespace', 'default'], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** `temporal workflow start` then `temporal workflow result`: the failed result, as printed. */
async function rawStart(input: string, workflowId = `migrate-${vm.uuid}`): Promise<Run> {
  const started = await temporal(['workflow', 'start', '--type', 'liveMigration', '--task-queue', taskQueue, '--workflow-id', workflowId, '--input', input]);
  if (started.code !== 0) return started;
  return temporal(['workflow', 'result', '--workflow-id', workflowId]);
}

// ---------------------------------------------------------------------------------------------
// Rows
// ---------------------------------------------------------------------------------------------

const long = (n: number) => 'x'.repeat(n);

/** ferry: [label, args (VM/OFF/A/B substituted), exit code, message pattern, fill host with no room]. */
type CliRow = [string, () => string[], number, RegExp, string?];
const cliRows: CliRow[] = [
  ['unknown VM', () => ['migrate', 'no-such-vm-bi'], 2, /VM 'no-such-vm-bi' runs on none of the hosts ferry knows/],
  ['unknown destination host', () => ['migrate', VM, '--to', 'host-zz'], 2, /unknown host 'host-zz': ferry knows/],
  ['destination = source', () => ['migrate', VM, '--to', A], 2, /refused: destination host-a is the host the VM runs on: choose another host/],
  ['VM shut off', () => ['migrate', OFF, '--to', B], 2, /shut ?off|not running|runs on none/],
  // Finding: a `migrate-` id with a malformed UUID is not refused as malformed (64); it is looked up as a VM name.
  ['malformed UUID as migration id', () => ['status', 'migrate-1234-not-a-uuid'], 2, /no migration of VM 'migrate-1234-not-a-uuid' is known/],
  ['malformed UUID as VM', () => ['migrate', '1234567-89ab-cdef-0123-456789abcdefg'], 2, /runs on none/],
  ['negative bandwidth', () => ['migrate', VM, '--bandwidth', '-5'], 64, /--bandwidth.*at least 1/],
  ['absurd bandwidth', () => ['migrate', VM, '--bandwidth', '99999999'], 64, /--bandwidth.*at most 1000000/],
  ['fractional bandwidth', () => ['migrate', VM, '--bandwidth', '2.5'], 64, /--bandwidth.*(integer|whole)/],
  ['negative policy downtime', () => ['migrate', VM, '--policy', '{"downtime":{"maxMs":-1}}'], 64, /policy downtime\.maxMs: must be at least 1/],
  ['absurd policy margin', () => ['migrate', VM, '--policy', '{"stall":{"marginPct":500}}'], 64, /policy stall\.marginPct: must be at most 50/],
  ['policy wrong type', () => ['migrate', VM, '--policy', '{"postcopy":{"allowed":"yes"}}'], 64, /policy postcopy\.allowed: must be true or false/],
  ['policy unknown field', () => ['migrate', VM, '--policy', '{"colour":"blue"}'], 64, /policy colour: unknown field/],
  ['policy not an object', () => ['migrate', VM, '--policy', '[1,2]'], 64, /--policy.*object/],
  ['oversized VM name', () => ['migrate', long(300)], 64, /64|too long|at most/],
  ['XML special chars in VM name', () => ['migrate', `<vm&"'>`], 64, /domain name|neither/],
  ['unicode VM name', () => ['migrate', 'vm-ümlaut-😀'], 64, /domain name|neither/],
  ['XML special chars in host', () => ['migrate', VM, '--to', '<host&>'], 64, /--to.*host name|unknown host/],
  ['destination without capacity', () => ['migrate', VM, '--to', B], 2, /no room/, 'fill'],
  ['set: negative max downtime', () => ['set', VM, '--max-downtime', '-1'], 64, /--max-downtime.*at least 1/],
  ['set: zero bandwidth', () => ['set', VM, '--bandwidth', '0'], 64, /--bandwidth.*at least 1/],
];

/** raw Temporal start: [label, input JSON (a function of the VMs), message pattern, workflow id, fill]. */
type RawRow = [string, () => string, RegExp, (() => string)?, string?];
const j = (o: unknown) => JSON.stringify(o);
const rawRows: RawRow[] = [
  ['unknown VM', () => j({ vm: 'no-such-vm-bi' }), /no-such-vm-bi/],
  ['unknown destination host', () => j({ vm: VM, destination: 'host-zz' }), /host-zz/],
  ['destination = source', () => j({ vm: VM, source: A, destination: A }), /destination\.host: must differ from source/],
  ['VM shut off', () => j({ vm: OFF, destination: B }), /shut ?off|not running/],
  ['malformed UUID in workflow id', () => j({ vm: VM, destination: B }), /must run as workflow id migrate-[0-9a-f-]{36} \(derived from the VM/, () => 'migrate-1234-not-a-uuid'],
  ['vm of the wrong type', () => j({ vm: 12345 }), /vm: must be a string/],
  ['unknown field', () => j({ vm: VM, colour: 'blue' }), /colour: unknown field/],
  ['negative bandwidth', () => j({ vm: VM, bandwidthMiBps: -1 }), /bandwidthMiBps: must be at least 1/],
  ['absurd bandwidth', () => j({ vm: VM, bandwidthMiBps: 1e12 }), /bandwidthMiBps: must be at most 1000000/],
  ['bandwidth of the wrong type', () => j({ vm: VM, bandwidthMiBps: 'fast' }), /bandwidthMiBps: must be a number/],
  ['policy initial above max', () => j({ vm: VM, policy: { downtime: { initialMs: 5000 } } }), /policy\.downtime.*maxMs must be at least downtime\.initialMs/],
  ['policy negative window', () => j({ vm: VM, policy: { stall: { windowMs: -5 } } }), /policy\.stall\.windowMs: must be at least 1000/],
  ['policy bad enum', () => j({ vm: VM, policy: { completion: { action: 'explode' } } }), /policy\.completion\.action: must be one of abort, force-complete/],
  ['destination mode bad enum', () => j({ vm: VM, destination: { host: B, mode: 'sideways' } }), /destination\.mode: must be one of force, check/],
  ['oversized VM name', () => j({ vm: long(65) }), /vm: must be at most 64/],
  ['oversized requestedBy', () => j({ vm: VM, requestedBy: long(300) }), /requestedBy: must be at most 256/],
  ['XML special chars in VM name', () => j({ vm: `<vm&"'>` }), /vm: must be a libvirt domain name/],
  ['unicode VM name', () => j({ vm: 'vm-ümlaut-😀' }), /vm: must be a libvirt domain name/],
  ['XML special chars in host', () => j({ vm: VM, destination: '<host&>' }), /destination\.host: must be a host name/],
  ['input not an object', () => j('just a string'), /must be an object \{ vm/],
  ['destination without capacity', () => j({ vm: VM, destination: B }), /no room/, undefined, 'fill'],
];

/** Updates on the held migration: [label, update name, input JSON, message pattern]. */
type UpdateRow = [string, string, string | null, RegExp];
const updateRows: UpdateRow[] = [
  ['setMaxDowntime negative', 'setMaxDowntime', '{"ms":-1}', /ms: must be at least 1/],
  ['setMaxDowntime wrong type', 'setMaxDowntime', '{"ms":"x"}', /ms: must be a number/],
  ['setMaxDowntime fractional', 'setMaxDowntime', '{"ms":1.5}', /ms: must be an integer/],
  ['setMaxDowntime absurd', 'setMaxDowntime', '{"ms":1e12}', /ms: must be at most 2000000/],
  ['setMaxDowntime unknown field', 'setMaxDowntime', '{"ms":100,"now":true}', /now: unknown field/],
  ['setBandwidth empty', 'setBandwidth', '{}', /mibps: (is required|must be a number)/],
  ['setBandwidth zero', 'setBandwidth', '{"mibps":0}', /mibps: must be at least 1/],
  ['setBandwidth negative', 'setBandwidth', '{"mibps":-40}', /mibps: must be at least 1/],
  ['abort reason of the wrong type', 'abort', '{"reason":5}', /reason: must be a string/],
  ['abort oversized reason', 'abort', j({ reason: long(2000) }), /reason: must be at most 1024/],
  ['forceComplete with a field', 'forceComplete', '{"now":true}', /now: unknown field/],
  ['resumeRecovery not an object', 'resumeRecovery', '[1]', /must be an empty object/],
];

// ---------------------------------------------------------------------------------------------

describe('refused before a migration starts', () => {
  it.each(cliRows.filter((r) => r[2] !== 64))('ferry: %s', async (_label, args, code, message, fill) => {
    const unfill = fill ? await fillHost(B, 64) : undefined;
    try {
      const r = await unchangedAround(() => ferry(args()));
      expect(r.code, show(r)).toBe(code);
      expect(r.stderr, show(r)).toMatch(message);
    } finally {
      await unfill?.();
    }
  }, 60_000);

  describe.concurrent('usage errors (64), several at once', () => {
    it.each(cliRows.filter((r) => r[2] === 64))('ferry: %s', async (_label, args, code, message) => {
      const r = await unchangedAround(() => ferry(args()));
      expect(r.code, show(r)).toBe(code);
      expect(r.stderr, show(r)).toMatch(message);
    }, 60_000);
  });

  it.each(rawRows)('temporal workflow start: %s', async (_label, input, message, workflowId, fill) => {
    const unfill = fill ? await fillHost(B, 64) : undefined;
    try {
      const r = await unchangedAround(() => rawStart(input(), workflowId?.()));
      expect(r.code, show(r)).not.toBe(0);
      expect(r.stdout + r.stderr, show(r)).toMatch(message);
    } finally {
      await unfill?.();
    }
  }, 60_000);
});

describe('refused updates on a running migration', () => {
  let id: string;
  let outcome: Promise<unknown>;
  const held = () => new WorkflowClient({ connection: conn }).getHandle(id);
  // The migration itself must not notice: still running, same resolved policy, same phase.
  const migrationState = async () => ({ status: (await held().describe()).status.name, policy: await held().query('policy'), phase: ((await held().query('progress')) as { phase: string }).phase });

  beforeAll(async () => {
    const h = await client.startMigration({ vm: VM, destination: B, bandwidthMiBps: 5, policy: { postcopy: { allowed: false }, pause: { allowed: false } } }, vm.uuid);
    id = h.workflowId;
    outcome = h.result().then((o) => o, (e: unknown) => e);
    const deadline = Date.now() + 60_000;
    while (((await held().query('progress')) as { phase: string }).phase !== 'pre-copy') {
      if (Date.now() > deadline) throw new Error('the held migration never reached pre-copy');
      await new Promise((r) => setTimeout(r, 250));
    }
  }, 90_000);

  afterAll(async () => {
    if (!id) return;
    await client.abort(id).catch(() => undefined);
    const o = (await outcome) as { outcome?: string };
    expect(o.outcome).toBe('rolled_back');
  }, 60_000);

  it.each(updateRows)('temporal workflow update execute: %s', async (_label, name, input, message) => {
    const r = await unchangedAround(
      () => temporal(['workflow', 'update', 'execute', '--workflow-id', id, '--name', name, ...(input === null ? [] : ['--input', input])]),
      migrationState,
    );
    expect(r.code, show(r)).not.toBe(0);
    expect(r.stdout + r.stderr, show(r)).toMatch(message);
  }, 30_000);

  it.each([
    ['abort with an oversized reason', () => ['abort', VM, '--reason', long(2000)], 64, /--reason: must be at most 1024 characters/],
    ['a second migration of a migrating VM', () => ['migrate', VM, '--to', B], 2, new RegExp('already|running')],
  ] as Array<[string, () => string[], number, RegExp]>)('ferry on the running migration: %s', async (_label, args, code, message) => {
    const r = await unchangedAround(() => ferry(args()), migrationState);
    expect(r.code, show(r)).toBe(code);
    expect(r.stderr, show(r)).toMatch(message);
  }, 60_000);
});
