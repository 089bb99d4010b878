import { ActivityFailure, ApplicationFailure, condition, patched, workflowInfo } from '@temporalio/workflow';
import type { ConvergencePolicy } from '../../model/convergence-policy';
import { mayStart, type AdmissionLimit, type AdmissionLimits, type SingleAdmission } from '../../model/drain/admission';
import { migrationsInFlight } from '../admission-proxy';
import { enterPhase, type Migration } from '../migration-state';
import type { PreChecked } from './pre-checks';

/** Between two looks at what runs: 5 s, doubling, at most a minute (a durable timer each). */
const FIRST_LOOK_AFTER_MS = 5_000;
const LONGEST_LOOK_AFTER_MS = 60_000;

/**
 * Admission, shared with drains: the migration starts only while the limits of its policy
 * (policy.admission: out of its source, into its destination, cluster-wide; each host's inventory
 * limits lower them) leave room, counting every other migration in flight as Temporal's visibility
 * lists it (activity migrationsInFlight; the decision is model/drain/admission.ts's `mayStart`).
 *
 * Where: after the pre-checks and before the claim. The pre-checks only read (both hosts,
 * Placement's candidates), so source and destination are known and nothing has changed yet; the
 * claim is the first act with an effect (allocations in Placement, then QEMU on the destination).
 * Waiting there holds nothing that another migration needs. A migration that had to wait runs its
 * pre-checks again once admitted: during the wait its VM may have changed state, its destination
 * may have gone into maintenance or filled up, and Placement may now choose another host; the
 * fresh pair is asked for admission again.
 *
 * While it waits: phase and FerryPhase 'admission' (so other migrations do not count it: two
 * waiting ones never hold each other back), the verdict "waiting for admission: <limit>", and a
 * decision each time the limit it waits for changes. It looks again after a durable timer, 5 s
 * doubling to a minute. An operator's abort ends the wait at once (the claim is then skipped and
 * the migration rolled back as any abort before the start). Bounded: after
 * policy.admission.waitSeconds the migration is refused ('Refused'), naming the limit; nothing has
 * changed on either host. A request with `admittedBy` (a drain's move: its drain admitted it under
 * the same shared counts) does not wait.
 *
 * Runs begun before this step replay without it (patch 'admission-shared').
 */
export async function admission(m: Migration, checked: PreChecked, recheck: () => Promise<PreChecked>): Promise<PreChecked> {
  if (!patched('admission-shared')) return checked;
  if (m.req.admittedBy !== undefined) {
    m.rec.decide(Date.now(), 'admission', `admitted by ${m.req.admittedBy} under the shared limits`);
    return checked;
  }
  const limits = singleMigrationLimits(m.policy);
  const until = Date.now() + m.policy.admission.waitSeconds * 1000;
  let checks = checked;
  let lookAfterMs = FIRST_LOOK_AFTER_MS;
  let waitingSince: number | null = null;
  let waitingFor: AdmissionLimit | 'visibility' | null = null;
  let fresh = true;
  for (;;) {
    if (m.rec.abortRequested !== null) {
      if (waitingSince !== null) m.rec.decide(Date.now(), 'admission', `wait ended by the operator's abort (${m.rec.abortRequested.reason})`);
      clearWait(m);
      return checks;
    }
    const move = { source: checks.src.source, destination: checks.dest.destination };
    const verdict = await ask(move, limits);
    if (verdict.admitted) {
      if (waitingSince === null || fresh) {
        m.rec.decide(Date.now(), 'admission', waitingSince === null
          ? `admitted: ${move.source} -> ${move.destination} within the limits (${describe(limits)})`
          : `admitted after ${Math.round((Date.now() - waitingSince) / 1000)} s of waiting, with fresh pre-checks`);
        clearWait(m);
        return checks;
      }
      // Admitted after a wait: check again what the wait may have changed, then ask for that pair.
      checks = await recheck();
      fresh = true;
      continue;
    }
    fresh = false;
    const now = Date.now();
    waitingSince ??= now;
    if (m.rec.phase !== 'admission') enterPhase(m, 'admission');
    if (waitingFor !== verdict.limit) {
      waitingFor = verdict.limit;
      m.rec.decide(now, 'admission-wait', `waiting for admission: ${verdict.reason}; looking again with back-off until ${new Date(until).toISOString()}`, { limit: verdict.limit });
    }
    showWait(m, verdict.reason, waitingSince, until);
    if (now >= until) {
      clearWait(m);
      const message =
        `not admitted within ${m.policy.admission.waitSeconds} s (policy.admission.waitSeconds): ${verdict.reason}; ` +
        `nothing has changed on either host. Start it again later, ${whatHelps(verdict.limit)}`;
      m.rec.decide(now, 'admission-refused', message, { limit: verdict.limit });
      throw ApplicationFailure.nonRetryable(message, 'Refused');
    }
    await condition(() => m.rec.abortRequested !== null, Math.min(lookAfterMs, until - now));
    lookAfterMs = Math.min(lookAfterMs * 2, LONGEST_LOOK_AFTER_MS);
  }
}

type Verdict = SingleAdmission | { admitted: false; limit: 'visibility'; reason: string };

/** What runs elsewhere (this migration left out), judged by the pure rule; visibility silent: wait. */
async function ask(move: { source: string; destination: string }, limits: AdmissionLimits): Promise<Verdict> {
  try {
    const elsewhere = await migrationsInFlight({ excludeWorkflowIds: [workflowInfo().workflowId] });
    return mayStart(move, elsewhere, limits);
  } catch (err) {
    // A malformed call or answer is a bug: it fails the migration. Visibility not answering is a wait.
    if (!(err instanceof ActivityFailure) || (err.cause instanceof ApplicationFailure && err.cause.nonRetryable)) throw err;
    return { admitted: false, limit: 'visibility', reason: `cannot count the migrations in flight (Temporal's visibility: ${err.cause?.message ?? err.message})` };
  }
}

/** A single migration's limits: its policy's (a drain's defaults); no link budget of its own. */
export function singleMigrationLimits(policy: ConvergencePolicy): AdmissionLimits {
  const a = policy.admission;
  return { maxParallel: a.maxOutOfHost, maxIntoHost: a.maxIntoHost, maxClusterWide: a.maxClusterWide, linkBandwidthMiBps: null, moveBandwidthMiBps: null };
}

function describe(l: AdmissionLimits): string {
  return `out of a host ${l.maxParallel}, into a host ${l.maxIntoHost}, cluster-wide ${l.maxClusterWide}`;
}

function whatHelps(limit: AdmissionLimit | 'visibility'): string {
  switch (limit) {
    case 'cluster-wide': return 'or raise the limit (policy.admission.maxClusterWide)';
    case 'out-of-host': return "or raise the limit (policy.admission.maxOutOfHost, or the source's maxOutgoingMigrations in the host inventory)";
    case 'into-host': return "or raise the limit (policy.admission.maxIntoHost, or the destination's maxIncomingMigrations in the host inventory)";
    case 'link-bandwidth': return 'or raise the link budget';
    case 'visibility': return "once Temporal's visibility answers";
  }
}

function showWait(m: Migration, reason: string, sinceMs: number, untilMs: number): void {
  m.rec.progress = {
    ...m.rec.progress,
    verdict: `waiting for admission: ${reason}`,
    admissionWait: { limit: reason, since: new Date(sinceMs).toISOString(), until: new Date(untilMs).toISOString() },
  };
}

function clearWait(m: Migration): void {
  if (!m.rec.progress.admissionWait) return;
  m.rec.progress = { ...m.rec.progress, verdict: null, admissionWait: null };
}
