import { ApplicationFailure } from '@temporalio/activity';

/**
 * A refusal: the request cannot be carried out as asked (the VM is not running, the destination
 * has no room, ...). Never retried; the message says what was wrong and what to do.
 */
export function refuse(message: string, details?: unknown, type = 'Refused'): ApplicationFailure {
  return ApplicationFailure.create({ message, type, nonRetryable: true, details: details ? [details] : [] });
}
