import { ApplicationFailure, patched, upsertMemo, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { ChooseDestinationResult, SourceCheckResult } from '../../model/activity-contract';
import { FerryDestination, FerrySource, FerryVmName, FerryVmUuid } from '../../model/search-attributes';
import { postcopyEligibility } from '../../model/postcopy-eligibility';
import { planStorage } from '../../model/storage/plan';
import { migrationWorkflowId } from '../../model/types';
import { workflowIdMismatch } from '../../model/workflow-id-mismatch';
import {
  checkDestination, checkDestinationLocal, checkSource, checkStorage, checkSourceLocal, chooseDestinationHost, chooseDestinationHostLocal,
} from '../activity-proxies';
import { postcopyUsable } from '../convergence';
import { enterPhase, type Migration } from '../migration-state';

export interface PreChecked {
  src: SourceCheckResult;
  dest: ChooseDestinationResult;
}

/**
 * Step 1, read-only on both hosts: the VM runs (or is paused) with no job, the workflow id is the
 * VM's, a destination is chosen (forced, checked or from Placement) and checked; the resolved
 * post-copy eligibility is recorded.
 */
export async function preChecks(m: Migration): Promise<PreChecked> {
  enterPhase(m, 'pre-checks');
  const reads = quickReads();
  const src = await reads.checkSource({ vm: m.req.vm, source: m.req.source });
  assertWorkflowIdIsTheVms(src.vm.uuid);
  m.rec.progress = { ...m.rec.progress, source: src.source };
  upsertSearchAttributes([
    { key: FerryVmUuid, value: src.vm.uuid }, { key: FerryVmName, value: src.vm.name }, { key: FerrySource, value: src.source },
  ]);

  const dest = await reads.chooseDestinationHost({ vm: src.vm, source: src.source, requested: m.req.destination });
  m.rec.decide(Date.now(), 'choose-destination', dest.detail, { destination: dest.destination, how: dest.how });
  const dchk = await reads.checkDestination({ vm: src.vm, source: src.source, destination: dest.destination });
  // The disks, shared or copied, decided from facts before anything moves (runs begun before had none).
  if (patched('storage-plan')) await planTheDisks(m, src, dest.destination);

  // vPMEM or passthrough devices, a disk being copied, or no post-copy recovery on one end: never post-copy, whatever the policy.
  const eligibility = postcopyEligibility({
    blockers: src.postcopyBlockers, recoverySupported: dchk.postcopySupported,
    ...(m.diskCopies?.length ? { diskCopies: m.diskCopies.map((d) => d.target) } : {}),
  });
  m.postcopyEligible = eligibility.eligible;
  if (dchk.stacks) m.stacks = dchk.stacks;
  const usable = postcopyUsable(m.policy, m.postcopyEligible);
  const why = eligibility.reasons.length ? ` (${eligibility.reasons.join(', ')})` : '';
  m.rec.decide(Date.now(), 'resolve-policy', `pre-checks passed; ${usable.why}${why}`, {
    postcopyEligible: m.postcopyEligible, postcopyUsable: usable.usable,
  });
  m.rec.progress = { ...m.rec.progress, destination: dest.destination };
  upsertSearchAttributes([{ key: FerryDestination, value: dest.destination }]);
  // The memo the Temporal UI shows: the request and the policy it resolved to, with what the
  // pre-checks found (also for migrations started without ferry's client). A command: runs begun
  // before replay without it.
  if (patched('memo-request-and-policy')) {
    upsertMemo({
      request: m.req, policy: m.policy,
      resolved: { source: src.source, destination: dest.destination, how: dest.how, postcopyEligible: m.postcopyEligible, postcopyUsable: usable.usable, why: usable.why },
    });
  }
  return { src, dest };
}

/**
 * The storage facts of both hosts (a shared-storage probe per disk directory, named by this run)
 * and the plan made from them: each disk shared, copied or excluded, with why. A refusal names
 * each disk that stops the migration; it comes before the claim, so nothing has moved.
 */
async function planTheDisks(m: Migration, src: SourceCheckResult, destination: string): Promise<void> {
  const facts = await checkStorage({ vm: { name: src.vm.name, uuid: src.vm.uuid }, source: src.source, destination, probeId: workflowInfo().runId });
  const plan = planStorage(facts, m.policy.storage);
  const disks = plan.disks.map((d) => `${d.target}: ${d.action} (${d.reason})`);
  if (plan.refusals.length) {
    m.rec.decide(Date.now(), 'storage-plan', `refused: ${plan.refusals.join('; ')}`, { refusals: plan.refusals.length });
    throw ApplicationFailure.nonRetryable(`storage pre-check on ${destination}: ${plan.refusals.join('; ')}`, 'Refused');
  }
  m.diskCopies = plan.disks.flatMap((d) => (d.copy ? [{ target: d.target, ...d.copy }] : []));
  m.sharedDisksVouched = plan.provenShared;
  if (disks.length) {
    m.rec.decide(Date.now(), 'storage-plan', disks.join('; '), { copied: plan.copyTargets.length, copyBytes: plan.copyBytes });
  }
}

/**
 * The pre-checks' reads, as local activities (activity-proxies.ts says why they qualify): three
 * fewer trips through the server on every migration's critical path. Runs begun before read them
 * as regular activities (patch 'local-quick-reads', also taken by prepare and start).
 */
function quickReads() {
  return patched('local-quick-reads')
    ? { checkSource: checkSourceLocal, chooseDestinationHost: chooseDestinationHostLocal, checkDestination: checkDestinationLocal }
    : { checkSource, chooseDestinationHost, checkDestination };
}

/** One VM, one migration at a time: the workflow id must be derived from the VM's UUID. */
function assertWorkflowIdIsTheVms(vmUuid: string): void {
  const expectedId = migrationWorkflowId(vmUuid);
  const { workflowId } = workflowInfo();
  if (workflowId === expectedId) return;
  throw ApplicationFailure.nonRetryable(
    `workflow id '${workflowId}' is not this VM's: ` +
      `this migration must run as workflow id ${expectedId} (derived from the VM, so one VM has one migration at a time); ` +
      `start it again with --workflow-id ${expectedId}`,
    'InvalidInput',
    // For a client that guessed the id (ferry migrate <name>): the VM's real UUID, to start again under.
    workflowIdMismatch(workflowId, vmUuid),
  );
}
