/**
 * What `ferry forecast` does: the command line checked first (a UsageError naming the option,
 * before anything is contacted), then the forecastMigration workflow through Temporal.
 */
import { TASK_QUEUE } from '../../workflows/definitions';
import { loadClientConfig } from '../config';
import { UsageError } from '../errors';
import { EXIT, type ExitCode } from '../exit-codes';
import { FerryClient } from '../ferry-client';
import { runForecast } from '../forecast-client';
import { formatForecast } from '../forecast-format';
import { parseNumberOption } from '../options';
import { outputFormat, printJson, printText } from '../output';
import { parseHostName } from '../refs';
import type { ForecastRequestInput } from '../../model/forecast/schemas';

export interface ForecastOpts {
  output?: string;
  json?: boolean;
  to?: string;
  bandwidth?: string;
}

/** The request from the command line; every bad value named by its option. */
export function forecastRequest(vm: string, o: ForecastOpts): ForecastRequestInput {
  if (vm.trim() === '') throw new UsageError('<vm> must be a VM name or UUID, got an empty string', { argument: '<vm>' });
  const req: ForecastRequestInput = { vm };
  if (o.to !== undefined) req.to = parseHostName(o.to, '--to');
  if (o.bandwidth !== undefined) {
    const mibps = parseNumberOption('--bandwidth', o.bandwidth);
    if (!(mibps > 0) || mibps > 1_000_000) {
      throw new UsageError(`--bandwidth must be MiB/s above 0 and at most 1000000, got '${o.bandwidth}'`, { option: '--bandwidth', value: o.bandwidth });
    }
    req.bandwidthMiBps = mibps;
  }
  return req;
}

export async function forecastCommand(vm: string, o: ForecastOpts): Promise<ExitCode> {
  const format = outputFormat(o);
  const request = forecastRequest(vm, o);
  const client = await FerryClient.connect(loadClientConfig(TASK_QUEUE));
  try {
    const result = await runForecast(client, request);
    if (format === 'json') printJson(result);
    else printText(formatForecast(result));
    return EXIT.ok;
  } finally {
    await client.close().catch(() => undefined);
  }
}
