/**
 * Runs fault-matrix cells against the lab: each case creates its guest on the first host, brings
 * a migration to the second host to its phase (stage.ts), inflicts the fault there (inflict.ts),
 * lets the migration go on, waits for its outcome (acting as the operator only where ferry
 * escalates or waits on a fault that never heals), then runs the invariants checker
 * (invariants.ts) and heals whatever the lab still has down. Returns one row per case.
 */
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import type { FerryClient } from '../../../client/ferry-client';
import { healFault, observeFaults } from '../../../lab/faults';
import { setLinkCap } from '../../../lab/network';
import { labDir } from '../../../lab/paths';
import { sleep } from '../../../lab/proc';
import { startPlacement } from '../../../lab/placement';
import { requireLabState, type LabHost, type LabState } from '../../../lab/state';
import type { Outcome } from '../../../model/types';
import { LAB_PROJECT_ID, LAB_USER_ID, createLabVm, deleteLabVm } from '../../../lab/vms';
import { fillHost, itClient, placementClient, rpOf } from '../../integration/support/lab-processes';
import { cellId, type Cell } from './cells';
import { armGate, disarmGate, gateReached, openGate, type GateReached } from './gate';
import { inflict, type Inflicted } from './inflict';
import { checkInvariants, snapshotVm, usageTotals, whyOf, type InvariantReport, type MigrationEnd, type VmBefore } from './invariants';
import { STAGES, breakMigrationStream, waitDestinationInPostcopy, waitPrecopyFlowing } from './stage';
import { MATRIX_TASK_QUEUE, WorkerPool } from './workers';

/** Every matrix guest also holds one unit of a custom class: a move must keep every class. */
export const MATRIX_CLASS = 'CUSTOM_FERRY_MATRIX';
/** A case that has no outcome this long after its fault is a finding, not a wait. */
const CASE_CAP_MS = 10 * 60_000;
/** A fault that never heals by itself: the operator steps in once ferry escalated, or after this long. */
const OPERATOR_AFTER_MS = 120_000;

export interface MatrixEnv {
  lab: LabState;
  client: FerryClient;
  workers: WorkerPool;
  gateDir: string;
}

export interface CaseRow {
  cell: Cell;
  vm: string;
  outcome: string;
  mode: string;
  invariants: InvariantReport;
  /** Seconds from the fault to the migration's outcome. */
  recoveredS: number | null;
  /** What was done and what ferry said, in order. */
  story: string[];
  escalated: string | null;
}

export async function openMatrix(lab: LabState): Promise<MatrixEnv> {
  const gateDir = path.join(labDir(), 'fault-matrix-gate');
  disarmGate(gateDir);
  const workers = new WorkerPool(gateDir);
  await workers.ensure(1);
  await ensureMatrixClass(lab);
  return { lab, client: await itClient(MATRIX_TASK_QUEUE), workers, gateDir };
}

export async function closeMatrix(env: MatrixEnv): Promise<void> {
  disarmGate(env.gateDir);
  await env.workers.stopAll();
  await env.client.close();
  await dropMatrixClass(env.lab).catch((err: Error) => console.log(`the matrix's resource class stays: ${err.message}`));
}

/**
 * After a case that could not run to its end (the harness failed, not ferry): its migrations are
 * terminated before its guests are deleted, and any allocation of the matrix's class that no lab
 * VM owns (a migration consumer the terminated workflow held) is removed, so the next case starts
 * clean. Said aloud: the case is reported as not run.
 */
async function cleanUpAfterBrokenCase(env: MatrixEnv, names: string[], log: (s: string) => void): Promise<void> {
  for (const id of await env.client.list({}, 20).then((rows) => rows.filter((r) => r.status === 'running' && names.includes(r.vm ?? '')).map((r) => r.workflowId), () => [])) {
    await env.client.handle(id).terminate('fault matrix: the case could not run to its end').catch(() => undefined);
    log(`terminated ${id}`);
  }
  const p = await placementClient();
  const owners = new Set(requireLabState().vms.filter((v) => !names.includes(v.name)).map((v) => v.uuid));
  for (const h of env.lab.hosts) {
    const r = await fetch(`${(await startPlacement()).url}/resource_providers/${h.uuid}/allocations`, {
      headers: { 'OpenStack-API-Version': 'placement 1.28', 'X-Auth-Token': 'admin' },
    }).then((x) => x.json() as Promise<{ allocations: Record<string, { resources: Record<string, number> }> }>);
    for (const [consumer, a] of Object.entries(r.allocations)) {
      if (a.resources[MATRIX_CLASS] && !owners.has(consumer)) {
        await p.deleteAllocations(consumer);
        log(`removed allocation of consumer ${consumer} on ${h.name}`);
      }
    }
  }
}

async function ensureMatrixClass(lab: LabState): Promise<void> {
  const p = await placementClient();
  await p.ensureResourceClass(MATRIX_CLASS);
  for (const h of lab.hosts) {
    const inv = await p.getInventories(h.uuid);
    if (inv.inventories[MATRIX_CLASS]) continue;
    await p.putInventories(h.uuid, inv.resource_provider_generation, { ...inv.inventories, [MATRIX_CLASS]: { total: 64 } });
  }
}

async function dropMatrixClass(lab: LabState): Promise<void> {
  const p = await placementClient();
  for (const h of lab.hosts) {
    const inv = await p.getInventories(h.uuid);
    if (!inv.inventories[MATRIX_CLASS]) continue;
    const { [MATRIX_CLASS]: _dropped, ...rest } = inv.inventories;
    await p.putInventories(h.uuid, inv.resource_provider_generation, rest);
  }
}

async function addMatrixClass(vmUuid: string, host: string): Promise<void> {
  const p = await placementClient();
  const cur = await p.getAllocations(vmUuid);
  await p.putAllocations(vmUuid, {
    allocations: { [rpOf(host)]: { ...cur.allocations[rpOf(host)], [MATRIX_CLASS]: 1 } },
    projectId: cur.projectId ?? LAB_PROJECT_ID,
    userId: cur.userId ?? LAB_USER_ID,
    consumerGeneration: cur.consumerGeneration,
  });
}

async function matrixGuest(name: string, host: string, guest: (typeof STAGES)[keyof typeof STAGES]['guest']) {
  await deleteLabVm(name);
  const vm = await createLabVm({ name, host, ...guest });
  await addMatrixClass(vm.uuid, host);
  return vm;
}

/** The innermost cause of a failure: the activity's own words rather than "Activity task failed". */
function rootMessage(err: Error): string {
  let e: Error = err;
  while (e.cause instanceof Error) e = e.cause;
  return e.message;
}

/**
 * How the migration ended, waiting through a Temporal restart (the result's long poll fails while
 * it is down). A failed workflow is a refusal (no room, a failed pre-check): nothing had moved.
 */
async function awaitEnd(client: FerryClient, workflowId: string): Promise<MigrationEnd> {
  for (;;) {
    try {
      return { kind: 'outcome', outcome: await client.result(workflowId) };
    } catch (err) {
      if (err instanceof WorkflowFailedError) return { kind: 'refused', message: rootMessage(err) };
      await sleep(1_000);
    }
  }
}

/** Brings the lab back whole after a case: every fault healed, the gate open, no cap. */
async function healLab(env: MatrixEnv, source: LabHost): Promise<string[]> {
  const healed: string[] = [];
  for (const d of await observeFaults()) {
    const e = await healFault(d.fault);
    healed.push(`${e.what}: ${e.detail}`);
  }
  disarmGate(env.gateDir);
  await setLinkCap(source.name, null);
  return healed;
}

function vmName(c: Cell, suffix = ''): string {
  return `fm-${c.fault}-${c.phase}${suffix}`.slice(0, 63);
}

export async function runCase(env: MatrixEnv, cell: Cell, log: (s: string) => void = () => undefined): Promise<CaseRow[]> {
  const [A, B] = [env.lab.hosts[0]!, env.lab.hosts[1]!];
  const names = cell.fault === 'competing' ? [vmName(cell, '-1'), vmName(cell, '-2')] : [vmName(cell)];
  let broken = true;
  try {
    const rows = cell.fault === 'competing' ? await runCompeting(env, cell, A, B, log) : [await runFaultCase(env, cell, A, B, log)];
    broken = false;
    return rows;
  } finally {
    if (broken) await cleanUpAfterBrokenCase(env, names, log);
    const healed = await healLab(env, A);
    if (healed.length > 0) log(`healed after the case: ${healed.join('; ')}`);
    await env.workers.ensure(1);
    for (const n of names) await deleteLabVm(n);
  }
}

async function runFaultCase(env: MatrixEnv, cell: Cell, A: LabHost, B: LabHost, log: (s: string) => void): Promise<CaseRow> {
  if (cell.fault === 'competing') throw new Error('competing migrations are staged by runCompeting');
  const stage = STAGES[cell.phase];
  const story: string[] = [];
  const name = vmName(cell);
  await env.workers.ensure(cell.fault === 'second-worker' ? 2 : 1);
  await setLinkCap(A.name, stage.linkMbps);
  const vm = await matrixGuest(name, A.name, stage.guest);
  const before = await snapshotVm(vm, A.name);
  const totals = await usageTotals();
  const workflowId = `migrate-${vm.uuid}`;
  if (stage.gate) armGate(env.gateDir, { ...stage.gate, workflowId });
  else disarmGate(env.gateDir);

  await env.client.startMigration({ vm: name, destination: B.name, ...stage.request }, vm.uuid);
  let held: GateReached | undefined;
  switch (stage.reach) {
    case 'gate':
      break;
    case 'precopy-flowing':
      await waitPrecopyFlowing(env.client, workflowId);
      break;
    case 'destination-in-postcopy':
      await waitDestinationInPostcopy(B.name, vm.uuid);
      break;
    case 'abort-in-precopy':
      await waitPrecopyFlowing(env.client, workflowId);
      await env.client.abort(workflowId, 'fault matrix: reach the roll-back');
      story.push('abort sent during pre-copy (to reach the roll-back)');
      break;
    case 'break-postcopy':
      await waitDestinationInPostcopy(B.name, vm.uuid);
      breakMigrationStream(A, B);
      story.push('post-copy stream broken (ss -K on the source)');
      break;
  }
  if (stage.gate) held = await gateReached(env.gateDir, 180_000);
  const target = { workflowId, vm, source: A, destination: B, holderPid: held?.pid };

  const faultAt = Date.now();
  const inflicted = await inflict(cell.fault, env, target);
  story.push(inflicted.what);
  log(`${cellId(cell)}: ${inflicted.what}`);
  openGate(env.gateDir);

  const { outcome, escalated, operatorNote } = await untilOutcome(env, workflowId, faultAt, inflicted);
  const outcomeAt = Date.now();
  const meanwhile = await inflicted.meanwhile;
  if (meanwhile) story.push(meanwhile);
  if (escalated) story.push(`escalated: ${escalated}`);
  if (operatorNote) story.push(operatorNote);
  return finishRow(cell, name, before, totals, outcome, faultAt, outcomeAt, story, escalated);
}

async function finishRow(
  cell: Cell, name: string, before: VmBefore, totals: Record<string, number> | undefined, end: MigrationEnd, faultAt: number, outcomeAt: number,
  story: string[], escalated: string | null,
): Promise<CaseRow> {
  const o = end.kind === 'outcome' ? end.outcome : undefined;
  if (o) {
    story.push(`path: ${decisionPath(o)}`);
    story.push(o.outcome === 'completed' ? `completed; hosts: ${o.hosts.source} / ${o.hosts.destination}` : `${o.outcome}: ${whyOf(o)}`);
  } else story.push(`${end.kind}: ${end.kind === 'outcome' ? '' : end.message}`);
  const invariants = await checkInvariants(before, end, totals);
  return {
    cell, vm: name, outcome: o?.outcome ?? end.kind, mode: o?.mode ?? '-', invariants, escalated,
    recoveredS: end.kind === 'none' ? null : Math.round((outcomeAt - faultAt) / 100) / 10, story,
  };
}

/** Decisions every migration takes: left out of the path, which tells how this one differed. */
const ROUTINE = new Set(['resolve-policy', 'choose-destination', 'claim', 'prepare-destination', 'start']);

/** The migration's decisions in order, routine ones and repeats left out: "switch-to-postcopy > recover-postcopy > recovered > job-ended". */
function decisionPath(o: Outcome): string {
  const path: string[] = [];
  for (const d of o.decisions) if (!ROUTINE.has(d.action) && path[path.length - 1] !== d.action) path.push(d.action);
  return path.join(' > ') || '(routine only)';
}

/**
 * Waits for the outcome. A fault that never heals by itself (the link cut for good) gets the
 * operator's repair once ferry escalated (then `resume-recovery`), or once it waited long.
 */
async function untilOutcome(env: MatrixEnv, workflowId: string, faultAt: number, inflicted: Inflicted) {
  const outcomeP = awaitEnd(env.client, workflowId);
  let settled: MigrationEnd | undefined;
  void outcomeP.then((o) => (settled = o));
  let escalated: string | null = null;
  let operatorNote: string | null = null;
  while (settled === undefined && Date.now() - faultAt < CASE_CAP_MS) {
    await Promise.race([outcomeP, sleep(2_000)]);
    if (settled !== undefined) break;
    const p = await env.client.progress(workflowId).catch(() => undefined);
    if (p?.phase === 'escalated' && escalated === null) escalated = `${p.escalation?.reason ?? '?'}: ${p.escalation?.why ?? ''}`;
    if (inflicted.operator && operatorNote === null && (escalated !== null || Date.now() - faultAt > OPERATOR_AFTER_MS)) {
      operatorNote = await inflicted.operator();
      if (escalated !== null) {
        const r = await env.client.resumeRecovery(workflowId).then((x) => JSON.stringify(x), (e: Error) => `refused: ${e.message}`);
        operatorNote += `; ferry resume-recovery: ${r}`;
      }
    }
  }
  const outcome: MigrationEnd = settled ?? { kind: 'none', message: `no outcome ${CASE_CAP_MS / 60_000} min after the fault (phase ${(await env.client.progress(workflowId).catch(() => undefined))?.phase ?? '?'})` };
  return { outcome, escalated, operatorNote };
}

/**
 * Two guests on the first host, room on the second for one of them only; both migrations start
 * at once. One moves; the other is refused for lack of room and stays where it ran.
 */
async function runCompeting(env: MatrixEnv, cell: Cell, A: LabHost, B: LabHost, log: (s: string) => void): Promise<CaseRow[]> {
  const stage = STAGES.claim;
  await env.workers.ensure(1);
  const names = [vmName(cell, '-1'), vmName(cell, '-2')];
  const vms = [];
  for (const n of names) vms.push(await matrixGuest(n, A.name, stage.guest));
  const unfill = await fillHost(B.name, stage.guest.memoryMiB + 64);
  try {
    const befores = await Promise.all(vms.map((vm) => snapshotVm(vm, A.name)));
    const totals = await usageTotals();
    disarmGate(env.gateDir);
    const faultAt = Date.now();
    await Promise.all(vms.map((vm) => env.client.startMigration({ vm: vm.name, destination: B.name }, vm.uuid)));
    log(`${cellId(cell)}: ${names.join(' and ')} started at once; ${B.name} has room for one`);
    const outcomes = await Promise.all(vms.map(async (vm) => {
      const o = await awaitEnd(env.client, `migrate-${vm.uuid}`);
      return { o, at: Date.now() };
    }));
    const rows: CaseRow[] = [];
    for (const [i, vm] of vms.entries()) {
      // Per VM, the checker alone; the totals are compared once both have ended (the filler counts in both).
      const row = await finishRow(cell, vm.name, befores[i]!, i === vms.length - 1 ? totals : undefined, outcomes[i]!.o, faultAt, outcomes[i]!.at,
        [`${names.join(' and ')} started at once; room on ${B.name} for one`], null);
      rows.push(row);
    }
    const completed = outcomes.filter((x) => x.o.kind === 'outcome' && x.o.outcome.outcome === 'completed').length;
    if (completed !== 1) {
      rows[0]!.invariants.violations.push(`${completed} of the 2 competing migrations completed, expected exactly 1`);
      rows[0]!.invariants.held = false;
    }
    return rows;
  } finally {
    await unfill();
  }
}
