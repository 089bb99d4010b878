import { DEFAULT_LAB, labUp } from '../../lab/lab';
import type { LabState } from '../../lab/state';

/**
 * The lab every integration test runs against: 3 hosts, TCG (the reproducible choice: field
 * notes), brought up idempotently so one test file can also run on its own.
 */
export async function ensureTestLab(): Promise<LabState> {
  return labUp({ ...DEFAULT_LAB, hosts: 3, accel: (process.env.FERRY_TEST_ACCEL as 'kvm' | 'tcg') ?? 'tcg' });
}
