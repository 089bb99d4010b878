/**
 * Every patch of the LiveMigration workflow, decided in the run's first activation.
 *
 * Why: on replay, `patched(id)` is true only if the SDK core has already seen the id's marker in
 * the history of the workflow task being replayed. When a query is answered in the same workflow
 * task in which a local activity resolves (the quick reads are local activities), the core sends
 * the marker that the code asked for right after it in the NEXT task's completion. Replayed, the
 * code asks in the earlier task, is told false, takes the old path, and the run fails with a
 * nondeterminism error: a migration stuck on its next worker restart or cache eviction, whenever
 * someone was polling its progress.
 *
 * Deciding them all when the run starts puts every marker in the first task, before any local
 * activity or query: each later `patched(id)` returns the remembered answer and records nothing.
 * Runs begun before this patch replay as they were (it is itself a patch).
 *
 * A new `patched('x')` in the LiveMigration workflow's code must be added here:
 * test/unit/workflows/patches-up-front.test.ts compares this list with the code.
 */
import { patched } from '@temporalio/workflow';

export const LIVE_MIGRATION_PATCHES = [
  'situation-table-v2', 'abort-in-decision', 'abort-at-step-boundaries', 'finish-then-bookkeeping',
  'postcopy-recovery-observed', 'escalation-continue-as-new', 'placement-wait-claim', 'placement-wait-roll-back',
  'refuse-malformed-workflow-id', 'watch-escalation-visible', 'finish-stall-alongside', 'dest-xml-out-of-history',
  'data-path-by-capability', 'memo-request-and-policy', 'claim-takes-over-reservation', 'local-quick-reads',
  'finish-bookkeeping-alongside', 'admission-shared', 'vpmem-assignment-by-migration-id', 'storage-plan',
  'block-migration', 'strategy-auto',
] as const;

export const PATCHES_DECIDED_UP_FRONT = 'patches-decided-up-front';

/** Call first thing in the run, before anything is awaited. */
export function decidePatchesUpFront(): void {
  if (!patched(PATCHES_DECIDED_UP_FRONT)) return;
  for (const id of LIVE_MIGRATION_PATCHES) patched(id);
}
