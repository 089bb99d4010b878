import { ApplicationFailure } from '@temporalio/activity';

/**
 * A refusal: the request cannot be carried out as asked (the VM is not running, the destination
 * has no room, ...). Never retried; the message says what was wrong and what to do.
 */
export function refuse(message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({ message, type: 'Refused', nonRetryable: true, details: details ? [details] : [] });
}
