import { patched, uuid4 } from '@temporalio/workflow';
import type { VmFacts } from '../../model/activity-contract';
import { claim as claimInPlacement, revertClaim } from '../activity-proxies';
import { enterPhase, type Migration } from '../migration-state';

/**
 * Step 2, Nova's migration-consumer pattern: the VM's source allocation moves to a consumer named
 * by a fresh migration id, then the destination is claimed for the VM. Compensated by moving the
 * migration consumer's allocation back (under the patient retry policy) before the failure
 * propagates. An operator's abort that came during the pre-checks skips the claim. Returns the
 * migration id.
 */
export async function claim(m: Migration, vm: VmFacts, source: string, destination: string): Promise<string> {
  enterPhase(m, 'claiming');
  const migrationId = uuid4();
  if (m.rec.abortRequested !== null && patched('abort-at-step-boundaries')) {
    m.rec.decide(Date.now(), 'claim', `not claimed: operator abort (${m.rec.abortRequested.reason})`);
    return migrationId;
  }
  try {
    const claimed = await claimInPlacement({ migrationId, vm, source, destination });
    m.rec.decide(Date.now(), 'claim', claimed.detail);
  } catch (err) {
    await revertClaim({ migrationId, vmUuid: vm.uuid });
    throw err;
  }
  return migrationId;
}
