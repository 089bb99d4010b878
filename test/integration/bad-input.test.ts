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
  return runFerry(args, { env: { TEMPORAL_ADDRESS: address, FERRY_TASK_QUEUE: taskQueue }, timeoutMs: 60_000 });
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
/** `text` matched literally inside a pattern (VM names). */
const lit = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A migration id, as messages print it. */
const ID = 'migrate-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
/** The hosts a message lists: "host-a, host-b, ..." (the lab's hosts, in inventory order). */
const HOSTS = '[\\w.-]+(?:, [\\w.-]+)+';

/**
 * ferry: [label, args (VM/OFF/A/B substituted), exit code, message pattern, fill host with no room].
 * Patterns match the whole message from `ferry: <kind>: ` on (stderr): the field (or option) named
 * and the rule. The texts are made by client/ (refs.ts, request.ts, ferry-client.ts,
 * migration-actions.ts) and, for refusals inside the workflow, by activities/ (claims.ts);
 * test/unit/cli/bad-input-messages.test.ts checks the ones made before anything starts.
 */
type CliRow = [string, () => string[], number, RegExp, string?];
const cliRows: CliRow[] = [
  ['unknown VM', () => ['migrate', 'no-such-vm-bi'], 2, new RegExp(`^ferry: refused: VM 'no-such-vm-bi' runs on none of the hosts ferry knows \\(${HOSTS}\\); no host has a VM of that name or UUID`, 'm')],
  ['unknown destination host', () => ['migrate', VM, '--to', 'host-zz'], 2, new RegExp(`^ferry: refused: unknown host 'host-zz': ferry knows ${HOSTS}$`, 'm')],
  ['destination = source', () => ['migrate', VM, '--to', A], 64, /^ferry: usage: invalid migration request: --to: must differ from the source host 'host-a' \(the VM runs there\)$/m],
  ['VM shut off', () => ['migrate', OFF, '--to', B], 2, new RegExp(`^ferry: refused: VM '${lit(OFF)}' runs on none of the hosts ferry knows \\(${HOSTS}\\); it is defined on host-a \\(shutoff, Destroyed\\)`, 'm')],
  ['malformed UUID as migration id', () => ['status', 'migrate-1234-not-a-uuid'], 64, /^ferry: usage: migration 'migrate-1234-not-a-uuid' is not a migration id: a migration id is migrate-<uuid> \(the VM's UUID\), and '1234-not-a-uuid' is not a UUID \(8-4-4-4-12 hexadecimal digits\); a VM whose name starts with migrate- is given by its UUID$/m],
  ['malformed UUID as VM', () => ['migrate', '1234567-89ab-cdef-0123-456789abcdefg'], 2, new RegExp(`^ferry: refused: VM '1234567-89ab-cdef-0123-456789abcdefg' runs on none of the hosts ferry knows \\(${HOSTS}\\); no host has a VM of that name or UUID`, 'm')],
  ['negative bandwidth', () => ['migrate', VM, '--bandwidth', '-5'], 64, /^ferry: usage: invalid migration request: --bandwidth: must be at least 1 \(got -5\)$/m],
  ['absurd bandwidth', () => ['migrate', VM, '--bandwidth', '99999999'], 64, /^ferry: usage: invalid migration request: --bandwidth: must be at most 1000000 \(got 99999999\)$/m],
  ['fractional bandwidth', () => ['migrate', VM, '--bandwidth', '2.5'], 64, /^ferry: usage: invalid migration request: --bandwidth: must be an integer \(got 2\.5\)$/m],
  ['negative policy downtime', () => ['migrate', VM, '--policy', '{"downtime":{"maxMs":-1}}'], 64, /^ferry: usage: invalid migration request: --policy downtime\.maxMs: must be at least 1 \(got -1\); /m],
  ['absurd policy margin', () => ['migrate', VM, '--policy', '{"stall":{"marginPct":500}}'], 64, /^ferry: usage: invalid migration request: --policy stall\.marginPct: must be at most 50 \(got 500\)$/m],
  ['policy wrong type', () => ['migrate', VM, '--policy', '{"postcopy":{"allowed":"yes"}}'], 64, /^ferry: usage: invalid migration request: --policy postcopy\.allowed: must be true or false \(got "yes"\)$/m],
  ['policy unknown field', () => ['migrate', VM, '--policy', '{"colour":"blue"}'], 64, /^ferry: usage: invalid migration request: --policy colour: unknown field \(allowed fields: strategy, postcopy, downtime, stall, completion, pause, placement, dataPath, admission, storage\)$/m],
  ['policy not an object', () => ['migrate', VM, '--policy', '[1,2]'], 64, /^ferry: usage: --policy must be a JSON object, e\.g\. '\{"postcopy":\{"allowed":false\}\}'; got \[1,2\]$/m],
  ['oversized VM name', () => ['migrate', long(300)], 64, /^ferry: usage: invalid migration request: VM: must be at most 64 characters \(got "x{56}\.\.\.\)$/m],
  ['XML special chars in VM name', () => ['migrate', `<vm&"'>`], 64, /^ferry: usage: invalid migration request: VM: must be a libvirt domain name \(letters, digits, _ \. -\) or a UUID \(got "<vm&\\"'>"\)$/m],
  ['unicode VM name', () => ['migrate', 'vm-ümlaut-😀'], 64, /^ferry: usage: invalid migration request: VM: must be a libvirt domain name \(letters, digits, _ \. -\) or a UUID \(got "vm-ümlaut-😀"\)$/mu],
  ['XML special chars in host', () => ['migrate', VM, '--to', '<host&>'], 64, /^ferry: usage: invalid migration request: --to: must be a host name \(letters, digits, _ \. -; starting and ending with a letter or digit\) \(got "<host&>"\)$/m],
  ['destination without capacity', () => ['migrate', VM, '--to', B], 2, new RegExp(`^ferry: refused: migration ${ID} refused: destination host-b has no room for \\S+ in Placement`, 'm'), 'fill'],
  ['set: negative max downtime', () => ['set', VM, '--max-downtime', '-1'], 64, /^ferry: usage: --max-downtime: must be at least 1 \(got -1\)$/m],
  ['set: zero bandwidth', () => ['set', VM, '--bandwidth', '0'], 64, /^ferry: usage: --bandwidth: must be at least 1 \(got 0\)$/m],
];

/**
 * raw Temporal start: [label, input JSON (a function of the VMs), message pattern, workflow id, fill].
 * Patterns match the failure's message as `temporal workflow result` prints it (as is, quotes
 * too): the request's field path and the rule (model/types.ts and model/validation.ts;
 * test/unit/cli/bad-input-messages.test.ts checks the texts), the workflow id and the rule
 * (model/types.ts malformedWorkflowIdRefusal), or an activity's refusal naming the VM or the
 * destination (activities/pre-checks.ts, activities/claims.ts).
 */
type RawRow = [string, () => string, RegExp, (() => string)?, string?];
const j = (o: unknown) => JSON.stringify(o);
/** An invalid request, as the workflow words it: `invalid migration request: <field>: <rule>`. */
const invalid = (issue: string) => new RegExp(`invalid migration request: ${issue}`);
const rawRows: RawRow[] = [
  ['unknown VM', () => j({ vm: 'no-such-vm-bi' }), new RegExp(`VM 'no-such-vm-bi' is not running on any host ferry knows \\(${HOSTS}\\): only a running or paused VM can be live-migrated`)],
  ['unknown destination host', () => j({ vm: VM, destination: 'host-zz' }), new RegExp(`destination: unknown host 'host-zz': ferry knows ${HOSTS}`)],
  ['destination = source', () => j({ vm: VM, source: A, destination: A }), invalid('destination\\.host: must differ from source \\(both are "host-a"\\) \\(got "host-a"\\)')],
  ['VM shut off', () => j({ vm: OFF, destination: B }), new RegExp(`VM '${lit(OFF)}' is not running on any host ferry knows \\(${HOSTS}\\); found host-a: shutoff \\(Destroyed\\): only a running or paused VM can be live-migrated`)],
  ['malformed UUID in workflow id', () => j({ vm: VM, destination: B }), new RegExp(
    "workflow id 'migrate-1234-not-a-uuid' is not a migration id: a migration must run as workflow id migrate-<vm uuid>, " +
      "the UUID of the request's VM in lower case \\(so one VM has one migration at a time\\), and '1234-not-a-uuid' is not a UUID " +
      `\\(8-4-4-4-12 hexadecimal digits\\); start it again with --workflow-id migrate-<the UUID of VM '${lit(VM)}'>`,
  ), () => 'migrate-1234-not-a-uuid'],
  ['vm of the wrong type', () => j({ vm: 12345 }), invalid('vm: must be a string: a libvirt domain name or UUID \\(got 12345\\)')],
  ['unknown field', () => j({ vm: VM, colour: 'blue' }), invalid('colour: unknown field \\(allowed fields: vm, source, destination, policy, bandwidthMiBps, requestedBy, reservation, admittedBy\\)')],
  ['negative bandwidth', () => j({ vm: VM, bandwidthMiBps: -1 }), invalid('bandwidthMiBps: must be at least 1 \\(got -1\\)')],
  ['absurd bandwidth', () => j({ vm: VM, bandwidthMiBps: 1e12 }), invalid('bandwidthMiBps: must be at most 1000000 \\(got 1000000000000\\)')],
  ['bandwidth of the wrong type', () => j({ vm: VM, bandwidthMiBps: 'fast' }), invalid('bandwidthMiBps: must be a number \\(got "fast"\\)')],
  ['policy initial above max', () => j({ vm: VM, policy: { downtime: { initialMs: 5000 } } }), invalid('policy\\.downtime: downtime\\.maxMs must be at least downtime\\.initialMs \\(with the defaults filled in\\)')],
  ['policy negative window', () => j({ vm: VM, policy: { stall: { windowMs: -5 } } }), invalid('policy\\.stall\\.windowMs: must be at least 1000 \\(got -5\\)')],
  ['policy bad enum', () => j({ vm: VM, policy: { completion: { action: 'explode' } } }), invalid('policy\\.completion\\.action: must be one of abort, force-complete \\(got "explode"\\)')],
  ['destination mode bad enum', () => j({ vm: VM, destination: { host: B, mode: 'sideways' } }), invalid('destination\\.mode: must be one of force, check \\(got "sideways"\\)')],
  ['oversized VM name', () => j({ vm: long(65) }), invalid('vm: must be at most 64 characters \\(got "x{56}\\.\\.\\.\\)')],
  ['oversized requestedBy', () => j({ vm: VM, requestedBy: long(300) }), invalid('requestedBy: must be at most 256 characters \\(got "x{56}\\.\\.\\.\\)')],
  ['XML special chars in VM name', () => j({ vm: `<vm&"'>` }), invalid(String.raw`vm: must be a libvirt domain name \(letters, digits, _ \. -\) or a UUID \(got "<vm&\\"'>"\)`)],
  ['unicode VM name', () => j({ vm: 'vm-ümlaut-😀' }), invalid(String.raw`vm: must be a libvirt domain name \(letters, digits, _ \. -\) or a UUID \(got "vm-ümlaut-😀"\)`)],
  ['XML special chars in host', () => j({ vm: VM, destination: '<host&>' }), invalid(String.raw`destination\.host: must be a host name \(letters, digits, _ \. -; starting and ending with a letter or digit\) \(got "<host&>"\)`)],
  ['input not an object', () => j('just a string'), invalid('input: must be an object \\{ vm, source\\?, destination\\?, policy\\?, bandwidthMiBps\\?, requestedBy\\? \\} \\(got "just a string"\\)')],
  ['destination without capacity', () => j({ vm: VM, destination: B }), /destination host-b has no room for \S+ in Placement/, undefined, 'fill'],
];

/**
 * Updates on the held migration: [label, update name, input JSON, message pattern]. Patterns match
 * the validator's message (workflows/operator-handlers.ts: `invalid <update> input: <field>: <rule>`;
 * test/unit/cli/bad-input-messages.test.ts checks the texts). `temporal workflow update execute`
 * prints a refusal with its double quotes escaped, hence the optional backslash before them.
 */
type UpdateRow = [string, string, string | null, RegExp];
const updateRows: UpdateRow[] = [
  ['setMaxDowntime negative', 'setMaxDowntime', '{"ms":-1}', /invalid setMaxDowntime input: ms: must be at least 1 \(got -1\)/],
  ['setMaxDowntime wrong type', 'setMaxDowntime', '{"ms":"x"}', /invalid setMaxDowntime input: ms: must be a number \(got \\?"x\\?"\)/],
  ['setMaxDowntime fractional', 'setMaxDowntime', '{"ms":1.5}', /invalid setMaxDowntime input: ms: must be an integer \(got 1\.5\)/],
  ['setMaxDowntime absurd', 'setMaxDowntime', '{"ms":1e12}', /invalid setMaxDowntime input: ms: must be at most 2000000 \(got 1000000000000\)/],
  ['setMaxDowntime unknown field', 'setMaxDowntime', '{"ms":100,"now":true}', /invalid setMaxDowntime input: now: unknown field \(allowed fields: ms\)/],
  ['setBandwidth empty', 'setBandwidth', '{}', /invalid setBandwidth input: mibps: is required \(must be a number\)/],
  ['setBandwidth zero', 'setBandwidth', '{"mibps":0}', /invalid setBandwidth input: mibps: must be at least 1 \(got 0\)/],
  ['setBandwidth negative', 'setBandwidth', '{"mibps":-40}', /invalid setBandwidth input: mibps: must be at least 1 \(got -40\)/],
  ['abort reason of the wrong type', 'abort', '{"reason":5}', /invalid abort input: reason: must be a string \(got 5\)/],
  ['abort oversized reason', 'abort', j({ reason: long(2000) }), /invalid abort input: reason: must be at most 1024 characters \(got \\?"x{56}\.\.\.\)/],
  ['forceComplete with a field', 'forceComplete', '{"now":true}', /invalid force-complete input: now: unknown field \(allowed fields: none\)/],
  ['resumeRecovery not an object', 'resumeRecovery', '[1]', /invalid resumeRecovery input: input: must be an empty object \{\} \(got \[1\]\)/],
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
    // In pre-copy with data flowing: the destination's paused domain exists by then, so the
    // snapshots around each update see the same hosts (the phase alone comes a moment earlier).
    const copying = (p: { phase: string; dataTotal: number }) => p.phase === 'pre-copy' && p.dataTotal > 0;
    while (!copying((await held().query('progress')) as { phase: string; dataTotal: number })) {
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
    ['abort with an oversized reason', () => ['abort', VM, '--reason', long(2000)], 64, /^ferry: usage: --reason: must be at most 1024 characters \(got "x{56}\.\.\.\)$/m],
    ['a second migration of a migrating VM', () => ['migrate', VM, '--to', B], 2, new RegExp(`^ferry: refused: a migration of this VM is already running: (${ID}) \\(ferry status \\1\\)$`, 'm')],
  ] as Array<[string, () => string[], number, RegExp]>)('ferry on the running migration: %s', async (_label, args, code, message) => {
    const r = await unchangedAround(() => ferry(args()), migrationState);
    expect(r.code, show(r)).toBe(code);
    expect(r.stderr, show(r)).toMatch(message);
  }, 60_000);
});
