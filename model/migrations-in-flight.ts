/**
 * PURE: the migrations running in the cluster, as Temporal's visibility lists them, counted for
 * admission (model/drain/admission.ts): out of each host, into each host, on each link and in all.
 * Drains and single migrations share these counts, so a limit holds whoever started the moves.
 *
 * Which running migrations count: every LiveMigration that runs, except
 *   - the callers' own (a single migration excludes itself; a drain its own children, which it
 *     counts precisely itself);
 *   - those waiting for admission themselves (FerryPhase 'admission'): they move nothing yet, and
 *     counting them would let two waiting migrations hold each other back until both give up;
 *   - those done (FerryPhase 'done': the workflow closes in a moment);
 *   - those escalated (FerryPhase 'escalated': post-copy recovery waits for an operator, which may
 *     take days; no stream flows, and counting them would let one broken migration stop every
 *     drain and migration into its hosts. Seen on the lab: a drain waited on one for 12 minutes).
 * A migration still in its pre-checks counts (it moves next: a drain's child does not wait for
 * admission, its drain admitted it), out of its source and cluster-wide, and into its destination
 * once its pre-checks chose one (FerryDestination is set then). One with no phase yet (its first
 * workflow task has not run) counts cluster-wide and out of the source its starter named.
 */
import { z } from 'zod';

/** FerryPhase values of running migrations that do not count as in flight (see above). */
export const NOT_IN_FLIGHT_PHASES: readonly string[] = ['admission', 'done', 'escalated'];

/** One running LiveMigration as visibility shows it (its search attributes; null when not set yet). */
export const RunningMigrationSchema = z.object({
  workflowId: z.string().min(1),
  source: z.string().nullable(),
  destination: z.string().nullable(),
  phase: z.string().nullable(),
});
export type RunningMigration = z.infer<typeof RunningMigrationSchema>;

export const MigrationsInFlightInputSchema = z.object({
  /** Workflow ids not to count: the caller itself, or a drain's own children. */
  excludeWorkflowIds: z.array(z.string().min(1)).max(10_000),
});
export type MigrationsInFlightInput = z.infer<typeof MigrationsInFlightInputSchema>;

const counts = z.record(z.string(), z.number().int().min(0));

/** What admission needs of everything else that runs (the activity migrationsInFlight's answer). */
export const InFlightCountsSchema = z.object({
  /** Migrations in flight in the whole cluster (the namespace), the excluded ones left out. */
  total: z.number().int().min(0),
  /** By source host. */
  outOf: counts,
  /** By destination host (migrations whose destination is chosen). */
  into: counts,
  /** By link, 'source->destination'. */
  onLink: counts,
  /** The inventory's own limits of the hosts that have one (maxOutgoingMigrations, maxIncomingMigrations). */
  hostLimits: z.record(z.string(), z.object({ maxOutgoing: z.number().int().positive().nullable(), maxIncoming: z.number().int().positive().nullable() })),
});
export type InFlightCounts = z.infer<typeof InFlightCountsSchema>;

export const NOTHING_IN_FLIGHT: InFlightCounts = { total: 0, outOf: {}, into: {}, onLink: {}, hostLimits: {} };

/** The link key of a source and a destination, as admission names links. */
export const linkOf = (source: string, destination: string) => `${source}->${destination}`;

/** Counts the running migrations that are in flight (see the file's comment), `exclude` left out. */
export function countMigrationsInFlight(
  running: readonly RunningMigration[],
  exclude: readonly string[],
  hostLimits: InFlightCounts['hostLimits'] = {},
): InFlightCounts {
  const skip = new Set(exclude);
  const out: InFlightCounts = { total: 0, outOf: {}, into: {}, onLink: {}, hostLimits };
  const add = (m: Record<string, number>, key: string) => { m[key] = (m[key] ?? 0) + 1; };
  const seen = new Set<string>();
  for (const r of running) {
    // Visibility lists one row per run; a workflow id counts once.
    if (skip.has(r.workflowId) || seen.has(r.workflowId)) continue;
    if (r.phase !== null && NOT_IN_FLIGHT_PHASES.includes(r.phase)) continue;
    seen.add(r.workflowId);
    out.total++;
    if (r.source !== null) add(out.outOf, r.source);
    if (r.destination !== null) add(out.into, r.destination);
    if (r.source !== null && r.destination !== null) add(out.onLink, linkOf(r.source, r.destination));
  }
  return out;
}
