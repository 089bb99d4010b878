import { ApplicationFailure } from '@temporalio/activity';
import { ACTIVITY_CONTRACT, type ActivityName, type FerryActivities } from '../model/activity-contract';
import { formatIssues } from '../model/types';

/**
 * The worker's boundary: every activity's input is checked against the contract before it runs
 * (a malformed call is a bug in the caller: non-retryable, named field by field), and its output
 * after (an activity must never report a fact the workflow cannot read).
 */
export function guardedActivities(impl: FerryActivities): FerryActivities {
  const out: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const name of Object.keys(ACTIVITY_CONTRACT) as ActivityName[]) {
    const { input: inSchema, output: outSchema } = ACTIVITY_CONTRACT[name];
    const fn = impl[name] as (input: unknown) => Promise<unknown>;
    out[name] = async (input: unknown) => {
      const parsedIn = inSchema.safeParse(input);
      if (!parsedIn.success) {
        throw ApplicationFailure.nonRetryable(`${name}: invalid input: ${formatIssues(parsedIn.error.issues).join('; ')}`, 'InvalidInput');
      }
      const result = await fn(parsedIn.data);
      const parsedOut = outSchema.safeParse(result);
      if (!parsedOut.success) {
        throw ApplicationFailure.nonRetryable(`${name}: invalid result: ${formatIssues(parsedOut.error.issues).join('; ')}`, 'ContractViolation');
      }
      return parsedOut.data;
    };
  }
  return out as FerryActivities;
}
