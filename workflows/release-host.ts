/**
 * releaseHost: takes a host out of maintenance (`ferry host release <host>`), so migrations may
 * pick it as a destination again. Through Temporal, so the operator's side never talks to
 * Placement. Short and idempotent: a host not in maintenance is left as it is, and said so.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { z } from 'zod';
import type { SetHostMaintenanceResult } from '../model/drain/activity-io';
import { HostNameSchema, parseWith } from '../model/types';
import { strictObject } from '../model/validation';
import { setHostMaintenance } from './drain/proxies';

const ReleaseHostInputSchema = strictObject({ host: HostNameSchema }, 'an object { host }');

export async function releaseHost(input: unknown): Promise<SetHostMaintenanceResult> {
  const parsed = parseWith(ReleaseHostInputSchema as z.ZodType<{ host: string }>, input, 'releaseHost input');
  if (!parsed.ok) throw ApplicationFailure.nonRetryable(parsed.error, 'InvalidInput');
  return setHostMaintenance({ host: parsed.value.host, on: false });
}
