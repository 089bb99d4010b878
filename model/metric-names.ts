/**
 * The names of ferry's own metrics, shared by the workflow that emits them, the worker that
 * configures their histogram buckets and serves them, and the tests that scrape them.
 * On the Prometheus endpoint they appear as written here (histograms with _bucket, _sum, _count).
 */
export const ferryMetric = {
  /** Counter: migrations ended, tags outcome (completed, rolled_back, aborted, failed, workflow-refused, workflow-failed) and mode. */
  migrations: 'ferry_migrations',
  /** Histogram (ms): start to outcome, tags outcome and mode. */
  duration: 'ferry_migration_duration',
  /** Histogram (ms): libvirt's measured downtime of completed migrations, tag mode. */
  downtime: 'ferry_migration_downtime',
  /** Histogram (ms): the longest stall the guest felt (where a meter exists), tag mode. */
  guestStall: 'ferry_migration_guest_stall',
  /** Counter: broken post-copies recovered, tag how. */
  postcopyRecoveries: 'ferry_postcopy_recoveries',
  /** Counter: escalations to an operator, tag where. */
  escalations: 'ferry_escalations',
  /** Gauge: migrations running in the namespace, read from Temporal visibility by each worker. */
  inFlight: 'ferry_migrations_in_flight',
} as const;

/**
 * Bucket boundaries (ms) fitted to what is measured: migrations take seconds to an hour; downtime
 * and guest stall run from a few ms (post-copy) to seconds (a pre-copy that had to pause).
 */
export const histogramBuckets: Record<string, number[]> = {
  [ferryMetric.duration]: [1_000, 2_000, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000],
  [ferryMetric.downtime]: [5, 10, 25, 50, 100, 200, 300, 500, 1_000, 2_000, 5_000, 10_000],
  [ferryMetric.guestStall]: [5, 10, 25, 50, 100, 200, 300, 500, 1_000, 2_000, 5_000, 10_000],
};
