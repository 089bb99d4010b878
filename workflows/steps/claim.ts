import { patched, uuid4 } from '@temporalio/workflow';
import type { VmFacts } from '../../model/activity-contract';
import { claim as claimInPlacement, claimQuick, revertClaim, revertClaimQuick } from '../activity-proxies';
import { enterPhase, type Migration } from '../migration-state';
import { waitForPlacement } from './placement-wait';

/**
 * Step 2, Nova's migration-consumer pattern: the VM's source allocation moves to a consumer named
 * by a fresh migration id, then the destination is claimed for the VM. Compensated by moving the
 * migration consumer's allocation back before the failure propagates. An operator's abort that
 * came during the pre-checks skips the claim. Returns the migration id.
 *
 * While Placement does not answer, the progress says so (placement-wait.ts): the claim waits with
 * back-off up to the policy's placement.claimWaitSeconds, then fails naming Placement; nothing has
 * changed on either host. The compensation waits for Placement without limit. Runs begun before
 * (no 'placement-wait-claim' marker) replay the activity retry policies, which wait unseen.
 */
export async function claim(m: Migration, vm: VmFacts, source: string, destination: string): Promise<string> {
  enterPhase(m, 'claiming');
  const migrationId = uuid4();
  if (m.rec.abortRequested !== null && patched('abort-at-step-boundaries')) {
    m.rec.decide(Date.now(), 'claim', `not claimed: operator abort (${m.rec.abortRequested.reason})`);
    return migrationId;
  }
  const shown = patched('placement-wait-claim');
  try {
    // A drain's move: the claim takes over the room the drain reserved (runs begun before this never carry one).
    const reservation = m.req.reservation !== undefined && patched('claim-takes-over-reservation') ? { reservationId: m.req.reservation } : {};
    const input = { migrationId, vm, source, destination, ...reservation };
    const claimed = shown
      ? await waitForPlacement(m, `claiming ${destination} for ${vm.name}`, () => claimQuick(input), {
        meaning: 'nothing has changed on either host; the migration starts once the claim is made',
        giveUpAfterMs: m.policy.placement.claimWaitSeconds * 1000,
      })
      : await claimInPlacement(input);
    m.rec.decide(Date.now(), 'claim', claimed.detail);
  } catch (err) {
    const revert = { migrationId, vmUuid: vm.uuid };
    if (shown) {
      const reverted = await waitForPlacement(m, 'moving the allocations back (the claim failed)', () => revertClaimQuick(revert), {
        meaning: 'compensation: retried until Placement answers',
      });
      m.rec.decide(Date.now(), 'revert-claim', `allocations: ${reverted}`);
    } else {
      await revertClaim(revert);
    }
    throw err;
  }
  return migrationId;
}
