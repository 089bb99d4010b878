/**
 * locateVm: where a VM is defined, and in what state, on every host the worker knows. The CLI and
 * other clients learn a VM's UUID (hence its migration's workflow id) through this workflow, so an
 * operator's machine needs only Temporal, never libvirt credentials. Read-only and short.
 */
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import { LocateVmInputSchema, type FerryActivities, type LocateVmInput, type LocateVmResult } from '../model/activity-contract';
import { formatIssues } from '../model/types';

/**
 * One look at every host: a host that does not answer is reported in the result, not retried
 * for long; a caller waiting at a terminal should hear back within a minute.
 */
const locate = proxyActivities<Pick<FerryActivities, 'locateVm'>>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '5 seconds',
    maximumAttempts: 3,
    nonRetryableErrorTypes: ['InvalidInput', 'ContractViolation'],
  },
});

export async function locateVm(input: LocateVmInput): Promise<LocateVmResult> {
  const parsed = LocateVmInputSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(`invalid locateVm input: ${formatIssues(parsed.error.issues).join('; ')}`, 'InvalidInput');
  }
  return locate.locateVm(parsed.data);
}
