/**
 * forecastMigration: what a migration of this VM would take, before moving it (`ferry forecast`).
 * Read-only and short: the migration's own source check and destination choice (so the forecast
 * is for the path a migration would take), the guest's dirty rate measured on its host, then the
 * pure forecast (model/forecast) of every strategy and the one `auto` would pick. A new workflow:
 * the LiveMigration workflow is not changed.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { ConvergencePolicySchema } from '../model/convergence-policy';
import { pathFromFacts } from '../model/forecast/path-history';
import { ForecastRequestSchema, type ForecastRequestInput, type ForecastResult } from '../model/forecast/schemas';
import { forecastMigrationStrategies } from '../model/forecast/strategy-forecast';
import { touchedFromResident } from '../model/forecast/touched-memory';
import { postcopyEligibility } from '../model/postcopy-eligibility';
import { formatIssues } from '../model/types';
import { checkDestination, checkSource, chooseDestinationHost, gatherForecastFacts } from './activity-proxies';

const MiB = 1024 * 1024;

export async function forecastMigration(input: ForecastRequestInput): Promise<ForecastResult> {
  const parsed = ForecastRequestSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(`invalid forecast request: ${formatIssues(parsed.error.issues).join('; ')}`, 'InvalidInput');
  }
  const req = parsed.data;
  const policy = ConvergencePolicySchema.parse(req.policy ?? {});

  const src = await checkSource({ vm: req.vm });
  const dest = await chooseDestinationHost({
    vm: src.vm, source: src.source, ...(req.to !== undefined ? { requested: { host: req.to, mode: 'check' as const } } : {}),
  });
  if (dest.destination === src.source) {
    throw ApplicationFailure.nonRetryable(`--to ${dest.destination}: that is where ${src.vm.name} runs; name another host`, 'InvalidInput');
  }
  const dchk = await checkDestination({ vm: src.vm, source: src.source, destination: dest.destination });
  // Disks are not planned here: a block migration would also rule post-copy out (the forecast says which blockers it saw).
  const eligibility = postcopyEligibility({ blockers: src.postcopyBlockers, recoverySupported: dchk.postcopySupported });

  const facts = await gatherForecastFacts({ vmUuid: src.vm.uuid, source: src.source, destination: dest.destination });
  if (facts.dirtyBps === null) {
    throw ApplicationFailure.nonRetryable(
      `${src.source} could not measure ${src.vm.name}'s dirty rate (QEMU's dirty-rate calculation needs libvirt 7.2 and QEMU 5.2 or later)`, 'Refused',
    );
  }
  // The pair's recent migrations give its fixed costs, and its bandwidth when nothing else does.
  const { bandwidth: bw, fixed } = pathFromFacts({ ...facts, operatorMiBps: req.bandwidthMiBps ?? null });
  if (bw.bps === null) throw ApplicationFailure.nonRetryable(bw.refusal, 'InvalidInput');

  const touchedBytes = touchedFromResident(facts.residentBytes, src.vm.memoryMiB * MiB, facts.workingSetBytes);
  const forecast = forecastMigrationStrategies({
    memoryBytes: src.vm.memoryMiB * MiB, dirtyBps: facts.dirtyBps, workingSetBytes: facts.workingSetBytes ?? null,
    touchedBytes, bandwidthBps: bw.bps, policy, postcopyEligible: eligibility.eligible, timing: fixed.timing,
  });
  return {
    vm: { name: src.vm.name, uuid: src.vm.uuid, memoryMiB: src.vm.memoryMiB },
    source: src.source, destination: dest.destination, dirtyBps: facts.dirtyBps,
    workingSetBytes: facts.workingSetBytes ?? null,
    ...(facts.dirtyEstimate !== undefined ? { dirtyEstimate: facts.dirtyEstimate } : {}),
    touchedBytes,
    bandwidth: { bps: bw.bps, source: bw.source, detail: bw.detail },
    postcopyEligible: eligibility.eligible,
    fixedCosts: { ms: fixed.ms, source: fixed.source, detail: fixed.detail },
    ...forecast,
  };
}
